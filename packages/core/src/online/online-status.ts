/** Which synced build of a feature online reads serve, from its pointer in the online store. */
export interface OnlineFeatureStatus {
  /** The offline build the online rows come from. */
  buildId: string;
  /** When that build finished (ISO 8601). */
  builtAt: string;
  /** When the sync switched readers over to it (ISO 8601). */
  syncedAt: string;
  /** Entities held online. */
  rows: number;
}
