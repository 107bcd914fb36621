import type { SimNetwork, SimPort } from './network-generator.ts';

/**
 * The simulator's answers that describe equipment by where it is: the equipment of a port
 * as the port listing shows it, and `GET /viabilidade/raio` (service points near a
 * coordinate, `docs platforms/geogrid-v3.md`: seen). Kept apart from the server so the
 * server module stays about HTTP and platform habits.
 */

/** `equipamento` of a port record: the equipment's id, name and service flag (second survey: seen in 2 clients). */
export function equipmentOfPort(network: SimNetwork, port: SimPort): { id: number; sigla: string | null; atendimento: 'S' | 'N' } {
  const splitter = network.splitters.get(port.splitterId);
  return { id: port.splitterId, sigla: splitter?.sigla ?? null, atendimento: splitter?.service ? 'S' : 'N' };
}

const EARTH_RADIUS_METRES = 6_371_008.8;

function metresBetween(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_METRES * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * `GET /viabilidade/raio?latitude=&longitude=&raio=&equipamentosAtendimento[]=S`: the items
 * (boxes, and poles carrying equipment directly) within `raio` metres that hold equipment,
 * only service equipment with the flag, nearest first, each with `distancia` (metres) and
 * `portasLivres`. Throws a RangeError on a missing or non-numeric centre or radius.
 */
export function serviceEquipmentHolders(network: SimNetwork, params: URLSearchParams): unknown[] {
  const lat = Number(params.get('latitude'));
  const lon = Number(params.get('longitude'));
  const radius = Number(params.get('raio'));
  if (!params.get('latitude') || !params.get('longitude') || !params.get('raio') || ![lat, lon, radius].every(Number.isFinite)) {
    throw new RangeError('latitude, longitude e raio são obrigatórios');
  }
  const onlyService = params.getAll('equipamentosAtendimento[]').includes('S');
  const found: { record: unknown; distance: number }[] = [];
  for (const [itemId, splitters] of network.splittersByContainer) {
    const held = onlyService ? splitters.filter((s) => s.service) : splitters;
    if (held.length === 0) continue;
    const item = network.boxes.get(itemId) ?? network.poles.get(itemId);
    if (!item) continue;
    const distance = metresBetween(lat, lon, item.lat, item.lon);
    if (distance > radius) continue;
    const free = held.reduce((n, s) => n + s.ports.filter((p) => p.customerId === null && !p.reserved).length, 0);
    const type = 'item' in item ? item.item : 'poste';
    found.push({
      record: { dados: { id: item.id, item: type, sigla: item.sigla, latitude: item.lat, longitude: item.lon }, distancia: Math.round(distance), portasLivres: free },
      distance,
    });
  }
  found.sort((x, y) => x.distance - y.distance);
  return found.map((f) => f.record);
}
