/** `@mlforge/test-support`: helpers mlforge's tests share. Private; the published suites bundle `./processes`. */
export { literal, query } from "./query";
export * from "./processes";
