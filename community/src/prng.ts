/**
 * Seeded pseudo-random numbers. Everything the community draws — household sizes, weather, load noise,
 * prices, who runs an auction — comes from here, so one seed gives one community, bit for bit, on every
 * machine (only integer arithmetic and Math.imul; no Math.random).
 *
 * Generator: mulberry32 (Tommy Ettinger's 32-bit generator, public domain): a Weyl sequence
 * (state += 0x6D2B79F5) passed through an xorshift-multiply finaliser. Period 2^32, passes PractRand to
 * several GB — far more than a simulation of thousands of meter-intervals draws. Streams are separated by
 * hashing a label into the seed (FNV-1a 32-bit), so adding draws to one stream never shifts another:
 * `stream(seed, 'weather', zone)` and `stream(seed, 'load', householdId, step)` are independent.
 * No npm package: the whole generator is the 10 lines below, and a dependency would add supply-chain
 * surface for no gain.
 */

/** A generator of uniform numbers in [0, 1). */
export type Rng = () => number;

export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a, 32 bit, over the UTF-8-free char codes of a string (labels are ASCII). */
export function fnv1a(text: string, basis = 0x811c9dc5): number {
  let h = basis >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i) & 0xff;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** An independent generator for (seed, label parts): same inputs → same sequence. */
export function stream(seed: number, ...parts: Array<string | number>): Rng {
  return mulberry32(fnv1a(`${seed >>> 0}|${parts.join('|')}`));
}

/** Standard normal draw (Box–Muller; uses two uniforms, never log(0)). */
export function normal(rng: Rng): number {
  const u1 = 1 - rng(); // (0, 1]
  const u2 = rng();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Uniform in [min, max). */
export function uniform(rng: Rng, min: number, max: number): number {
  return min + (max - min) * rng();
}

/** Fisher–Yates shuffle of a copy. */
export function shuffled<T>(rng: Rng, items: readonly T[]): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
