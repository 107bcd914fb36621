/**
 * Where a network element can plausibly be: in Brazil (mapsync serves Brazilian ISPs), and
 * inside the integration's `area` when the admin set one. A position that is a valid
 * EPSG:4326 point but lies elsewhere is a data error on the platform (latitude and longitude
 * swapped, a sign dropped, a point left at its default), never something to store.
 *
 * Brazil's outline is the `BR` feature of @rapideditor/country-coder (OpenStreetMap
 * boundaries, simplified, with the territorial sea and the oceanic islands: Fernando de
 * Noronha, Atol das Rocas, São Pedro e São Paulo, Trindade e Martim Vaz). Its land borders are
 * simplified to a few hundred vertices, so a point up to BORDER_TOLERANCE_KM outside the
 * outline is still taken as Brazil: twin border towns (Sant'Ana do Livramento and Rivera,
 * Ponta Porã and Pedro Juan Caballero) sit within a kilometre or two of it.
 */

/** A bounding box in degrees (EPSG:4326): longitude west to east, latitude south to north. */
export interface GeoArea {
  minLon: number;
  minLat: number;
  maxLon: number;
  maxLat: number;
}

/**
 * The bounding box of the Brazil outline used here (see the module note), rounded outwards.
 * Used to check an admin's `area` overlaps Brazil without loading the outline.
 */
export const BRAZIL_EXTENT: GeoArea = { minLon: -74.0, minLat: -34.1, maxLon: -28.3, maxLat: 5.3 };

/** How far outside the simplified outline a point is still taken as in Brazil, in kilometres. */
export const BORDER_TOLERANCE_KM = 5;

/**
 * Half the side of the window the outline is clipped to before measuring a distance, in
 * degrees: ≥ 9 km at any Brazilian latitude, so the clip's own edges (all farther than
 * BORDER_TOLERANCE_KM) never decide the answer.
 */
const CLIP_HALF_SIDE_DEG = 0.1;

export type PositionVerdict =
  | { plausible: true }
  | { plausible: false; code: 'implausible_coordinates' | 'coordinates_swapped'; reason: string };

/** Judges positions for one integration. Synchronous once loaded: called per record. */
export interface PositionRule {
  /** `lat`, `lon` in degrees, already in range (±90, ±180). */
  judge(lat: number, lon: number): PositionVerdict;
}

export function areaContains(area: GeoArea, lat: number, lon: number): boolean {
  return lon >= area.minLon && lon <= area.maxLon && lat >= area.minLat && lat <= area.maxLat;
}

export function areasOverlap(a: GeoArea, b: GeoArea): boolean {
  return a.minLon <= b.maxLon && b.minLon <= a.maxLon && a.minLat <= b.maxLat && b.minLat <= a.maxLat;
}

export function describeArea(area: GeoArea): string {
  return `longitude ${area.minLon}…${area.maxLon}, latitude ${area.minLat}…${area.maxLat}`;
}

/**
 * Loads Brazil's outline (lazily: it is only needed by a sync) and returns the rule for an
 * integration with the given optional `area`.
 */
export async function loadPositionRule(area?: GeoArea | null): Promise<PositionRule> {
  // The turf modules alone: the whole of @turf/turf takes about a second to load.
  const [{ feature, iso1A2Code }, { bboxClip }, { pointToPolygonDistance }, { multiPolygon }] = await Promise.all([
    import('@rapideditor/country-coder'),
    import('@turf/bbox-clip'),
    import('@turf/point-to-polygon-distance'),
    import('@turf/helpers'),
  ]);
  const geometry = feature('BR')?.geometry;
  if (geometry?.type !== 'MultiPolygon') throw new Error('the Brazil outline is missing from @rapideditor/country-coder');
  const outline = multiPolygon(geometry.coordinates);

  const inBrazil = (lat: number, lon: number): boolean => {
    if (lat < -90 || lat > 90 || lon < -180 || lon > 180) return false;
    if (iso1A2Code([lon, lat]) === 'BR') return true;
    const near = bboxClip(outline, [lon - CLIP_HALF_SIDE_DEG, lat - CLIP_HALF_SIDE_DEG, lon + CLIP_HALF_SIDE_DEG, lat + CLIP_HALF_SIDE_DEG]);
    if (near.geometry.type !== 'MultiPolygon' || near.geometry.coordinates.every((polygon) => polygon.length === 0)) return false;
    return pointToPolygonDistance([lon, lat], near.geometry, { units: 'kilometers' }) <= BORDER_TOLERANCE_KM;
  };
  const plausible = (lat: number, lon: number) => inBrazil(lat, lon) && (!area || areaContains(area, lat, lon));
  const where = area ? `the integration's area (${describeArea(area)})` : 'Brazil';

  return {
    judge(lat, lon) {
      if (plausible(lat, lon)) return { plausible: true };
      const outside = !inBrazil(lat, lon) ? 'outside Brazil' : `outside the integration's area (${describeArea(area as GeoArea)})`;
      if (plausible(lon, lat)) {
        return {
          plausible: false,
          code: 'coordinates_swapped',
          reason: `latitude ${lat}, longitude ${lon} is ${outside}; swapped (latitude ${lon}, longitude ${lat}) it would be in ${where}: latitude and longitude look swapped on the platform`,
        };
      }
      return { plausible: false, code: 'implausible_coordinates', reason: `latitude ${lat}, longitude ${lon} is ${outside}` };
    },
  };
}
