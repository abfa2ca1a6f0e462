// fresh ships no types and @types/fresh is not installed: the one function the api calls.
declare module 'fresh' {
  /** Whether a response with `resHeaders` is still fresh for a request with `reqHeaders` (a 304 is the answer). */
  function fresh(reqHeaders: Record<string, string | undefined>, resHeaders: Record<string, string | undefined>): boolean;
  export default fresh;
}
