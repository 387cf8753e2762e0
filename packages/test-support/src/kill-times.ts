/** A seeded pseudo-random generator (mulberry32) of numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` kill times spread over `[0, span)` ms: one at a random point of each of `count` equal slices, in a random order. */
export function killTimes(random: () => number, count: number, span: number): number[] {
  const times = Array.from({ length: count }, (_, slice) => Math.round(((slice + random()) / count) * span));
  for (let index = times.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [times[index], times[other]] = [times[other]!, times[index]!];
  }
  return times;
}
