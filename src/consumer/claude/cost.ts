/**
 * Resolution of a cost in US dollars: a billionth of a dollar. Anthropic prices tokens in dollars
 * per million tokens with at most a cent's precision ($0.08, $3.75, $18.75 per MTok), so a token
 * costs a whole number of 1e-8 USD and so does any sum of them; a price multiplier (e.g. 1.1x
 * for US-only inference) can add one decimal, hence 1e-9. Float noise in Claude Code's sums
 * (0.0012345000000000001) is ~1e-19 here, far below it, and doubles keep 1e-9 exact for any cost
 * under a million dollars (15 significant digits).
 */
const USD_RESOLUTION = 1e9;

/** A cost as the API bills it: rounded to 1e-9 USD, without float noise. Pure. */
export function roundUsd(usd: number): number {
  return Math.round(usd * USD_RESOLUTION) / USD_RESOLUTION;
}
