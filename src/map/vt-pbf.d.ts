// vt-pbf ships no types; the part used here.
declare module 'vt-pbf' {
  interface GeojsonVtTile {
    features: { type: 1 | 2 | 3; geometry: unknown; tags: Record<string, unknown>; id?: number }[];
  }
  function fromGeojsonVt(layers: Record<string, GeojsonVtTile>, options?: { version?: number; extent?: number }): Uint8Array;
  const vtpbf: { fromGeojsonVt: typeof fromGeojsonVt };
  export default vtpbf;
}
