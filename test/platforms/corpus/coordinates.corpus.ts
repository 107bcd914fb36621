import type { GeoArea } from '../../../src/domain/positions.ts';

/**
 * Positions as platforms send them (latitude, longitude: JSON numbers or text), with the
 * outcome the sync must give. Add a row for each new case met in the field.
 *
 * - `ok`: stored;
 * - `bad_coordinates`: not a position at all (missing, not a number, out of range, 0,0);
 * - `implausible_coordinates`: a position outside Brazil (or outside `area` when given);
 * - `coordinates_swapped`: implausible as given, plausible with the two swapped.
 * `hint` must appear in the reason.
 */
export interface CoordinateCase {
  name: string;
  lat: unknown;
  lon: unknown;
  expected: 'ok' | 'bad_coordinates' | 'implausible_coordinates' | 'coordinates_swapped';
  area?: GeoArea;
  hint?: RegExp;
}

/** Campinas and around (the simulator's city). */
export const CAMPINAS: GeoArea = { minLon: -47.3, minLat: -23.1, maxLon: -46.8, maxLat: -22.7 };

export const COORDINATE_CASES: CoordinateCase[] = [
  // The example: São Paulo with latitude and longitude swapped.
  { name: 'São Paulo swapped (issue 11)', lat: -46.63, lon: -23.55, expected: 'coordinates_swapped', hint: /swapped \(latitude -23\.55, longitude -46\.63\)/ },
  { name: 'São Paulo', lat: -23.55, lon: -46.63, expected: 'ok' },
  { name: 'São Paulo as text with decimal commas', lat: '-23,55', lon: '-46,63', expected: 'ok' },
  { name: 'São Paulo as text with a typographic minus', lat: '\u221223.55', lon: '\u221246.63', expected: 'ok' },
  { name: 'São Paulo swapped, as text', lat: '-46.63', lon: '-23.55', expected: 'coordinates_swapped' },
  { name: 'Campinas', lat: -22.9056, lon: -47.0608, expected: 'ok' },
  { name: 'Manaus', lat: -3.119, lon: -60.0217, expected: 'ok' },
  { name: 'Manaus swapped', lat: -60.0217, lon: -3.119, expected: 'coordinates_swapped' },
  { name: 'Porto Alegre', lat: -30.0346, lon: -51.2177, expected: 'ok' },
  { name: 'Boa Vista, north of the equator', lat: 2.8235, lon: -60.6758, expected: 'ok' },
  { name: 'Macapá, on the equator', lat: 0.0349, lon: -51.0694, expected: 'ok' },
  // Islands are Brazil.
  { name: 'Fernando de Noronha', lat: -3.8547, lon: -32.4237, expected: 'ok' },
  { name: 'Atol das Rocas', lat: -3.8608, lon: -33.8025, expected: 'ok' },
  { name: 'Trindade', lat: -20.5148, lon: -29.3233, expected: 'ok' },
  { name: 'Martim Vaz', lat: -20.47, lon: -28.85, expected: 'ok' },
  { name: 'São Pedro e São Paulo archipelago', lat: 0.9167, lon: -29.3458, expected: 'ok' },
  { name: 'Ilhabela', lat: -23.7781, lon: -45.3581, expected: 'ok' },
  { name: 'Florianópolis (island)', lat: -27.5954, lon: -48.548, expected: 'ok' },
  // Border towns: Brazil, even where the simplified outline is a little off.
  { name: "Sant'Ana do Livramento", lat: -30.8908, lon: -55.5328, expected: 'ok' },
  { name: 'Chuí', lat: -33.6906, lon: -53.4567, expected: 'ok' },
  { name: 'Brasiléia', lat: -11.01, lon: -68.75, expected: 'ok' },
  { name: 'Dionísio Cerqueira', lat: -26.25, lon: -53.64, expected: 'ok' },
  { name: 'Tabatinga', lat: -4.25, lon: -69.94, expected: 'ok' },
  { name: 'Ponta Porã', lat: -22.54, lon: -55.72, expected: 'ok' },
  { name: 'Oiapoque', lat: 3.84, lon: -51.83, expected: 'ok' },
  { name: 'Foz do Iguaçu', lat: -25.55, lon: -54.59, expected: 'ok' },
  // Outside Brazil.
  { name: 'null island neighbour (Gulf of Guinea)', lat: 0.5, lon: 0.5, expected: 'implausible_coordinates' },
  { name: 'Buenos Aires', lat: -34.6037, lon: -58.3816, expected: 'implausible_coordinates' },
  { name: 'Asunción', lat: -25.2637, lon: -57.5759, expected: 'implausible_coordinates' },
  { name: 'Lisbon', lat: 38.7223, lon: -9.1393, expected: 'implausible_coordinates', hint: /outside Brazil/ },
  { name: 'São Paulo with the latitude sign dropped (Atlantic)', lat: 23.55, lon: -46.63, expected: 'implausible_coordinates' },
  { name: 'São Paulo with both signs dropped (Asia)', lat: 23.55, lon: 46.63, expected: 'implausible_coordinates' },
  { name: 'São Paulo with the longitude sign dropped', lat: -23.55, lon: 46.63, expected: 'implausible_coordinates' },
  { name: 'Puerto Iguazú, 8 km over the border', lat: -25.69, lon: -54.44, expected: 'implausible_coordinates' },
  { name: 'South pole', lat: -90, lon: 0, expected: 'implausible_coordinates' },
  // Not positions at all.
  { name: 'null island', lat: 0, lon: 0, expected: 'bad_coordinates', hint: /0,0/ },
  { name: 'null island as text', lat: '0', lon: '0.0', expected: 'bad_coordinates' },
  { name: 'null', lat: null, lon: null, expected: 'bad_coordinates', hint: /not numbers/ },
  { name: 'missing', lat: undefined, lon: undefined, expected: 'bad_coordinates', hint: /missing/ },
  { name: 'empty strings', lat: '', lon: '', expected: 'bad_coordinates' },
  { name: 'blank strings', lat: '  ', lon: ' ', expected: 'bad_coordinates' },
  { name: 'NaN', lat: Number.NaN, lon: -46.63, expected: 'bad_coordinates' },
  { name: 'Infinity', lat: -23.55, lon: Number.POSITIVE_INFINITY, expected: 'bad_coordinates' },
  { name: '"NaN" as text', lat: 'NaN', lon: '-46.63', expected: 'bad_coordinates' },
  { name: 'words', lat: 'sem coordenada', lon: null, expected: 'bad_coordinates' },
  { name: 'degrees, minutes, seconds', lat: "23°33'S", lon: "46°38'W", expected: 'bad_coordinates' },
  { name: 'thousands separators', lat: '-23,550,520', lon: '-46,633,308', expected: 'bad_coordinates' },
  { name: 'both in one field', lat: '-23.55, -46.63', lon: null, expected: 'bad_coordinates' },
  { name: 'a boolean', lat: true, lon: false, expected: 'bad_coordinates' },
  { name: 'an array', lat: [-23.55], lon: [-46.63], expected: 'bad_coordinates' },
  { name: 'latitude beyond 90', lat: -123.55, lon: -46.63, expected: 'bad_coordinates', hint: /out of range/ },
  { name: 'longitude beyond 180', lat: -23.55, lon: -246.63, expected: 'bad_coordinates' },
  { name: 'degrees ×1e6 as integers', lat: -23550520, lon: -46633308, expected: 'bad_coordinates', hint: /multiplied by 1e6 \(latitude -23\.55052, longitude -46\.633308\)/ },
  { name: 'degrees ×1e6 as text', lat: '-23550520', lon: '-46633308', expected: 'bad_coordinates', hint: /multiplied by 1e6/ },
  { name: 'degrees ×1e7', lat: -235505200, lon: -466333080, expected: 'bad_coordinates', hint: /multiplied by 1e7/ },
  { name: 'degrees ×1e5', lat: -2355052, lon: -4663330, expected: 'bad_coordinates', hint: /multiplied by 1e5/ },
  // The integration's area narrows Brazil.
  { name: 'Campinas inside its area', lat: -22.9056, lon: -47.0608, area: CAMPINAS, expected: 'ok' },
  { name: 'Campinas area edge', lat: -22.7, lon: -46.8, area: CAMPINAS, expected: 'ok' },
  { name: 'São Paulo outside the Campinas area', lat: -23.55, lon: -46.63, area: CAMPINAS, expected: 'implausible_coordinates', hint: /outside the integration's area/ },
  { name: 'Campinas swapped, with its area', lat: -47.0608, lon: -22.9056, area: CAMPINAS, expected: 'coordinates_swapped', hint: /in the integration's area/ },
  { name: 'Lisbon with an area', lat: 38.7223, lon: -9.1393, area: CAMPINAS, expected: 'implausible_coordinates', hint: /outside Brazil/ },
];
