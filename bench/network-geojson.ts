import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { SimNetwork } from '../src/simulator/network-generator.ts';

/**
 * Writes every element of a simulated network (poles, boxes, splitters, ports, customers) as
 * one GeoJSON FeatureCollection of points, streamed, for the ogr2ogr baseline. Equipment and
 * customers take the position of their container. Returns the number of features.
 */
export async function writeNetworkGeoJson(network: SimNetwork, file: string): Promise<number> {
  const out = createWriteStream(file);
  let count = 0;
  let buffer = '';
  const write = async (feature: object) => {
    buffer += `${count === 0 ? '' : ',\n'}${JSON.stringify(feature)}`;
    count += 1;
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  };
  const point = (lon: number, lat: number) => ({ type: 'Point', coordinates: [lon, lat] });
  const position = new Map<number, { lon: number; lat: number }>();
  out.write('{"type":"FeatureCollection","features":[\n');
  for (const pole of network.poles.values()) {
    position.set(pole.id, pole);
    await write({ type: 'Feature', geometry: point(pole.lon, pole.lat), properties: { kind: 'pole', external_id: String(pole.id), name: pole.sigla, observation: pole.observacao, folder: pole.folderId } });
  }
  for (const box of network.boxes.values()) {
    position.set(box.id, box);
    await write({ type: 'Feature', geometry: point(box.lon, box.lat), properties: { kind: box.item, external_id: String(box.id), name: box.sigla, pole: box.poleId, folder: box.folderId } });
  }
  for (const splitter of network.splitters.values()) {
    const at = position.get(splitter.containerId);
    await write({ type: 'Feature', geometry: at ? point(at.lon, at.lat) : null, properties: { kind: 'splitter', external_id: String(splitter.id), name: splitter.sigla, container: splitter.containerId, service: splitter.service, ratio_in: splitter.ratioIn, ratio_out: splitter.ratioOut } });
    for (const port of splitter.ports) {
      await write({ type: 'Feature', geometry: at ? point(at.lon, at.lat) : null, properties: { kind: 'port', external_id: String(port.id), splitter: splitter.id, number: port.number, label: port.label, customer: port.customerId } });
    }
  }
  for (const customer of network.customers.values()) {
    const port = customer.portId === null ? undefined : network.ports.get(customer.portId);
    const at = port ? position.get(port.containerId) : undefined;
    await write({ type: 'Feature', geometry: at ? point(at.lon, at.lat) : null, properties: { kind: 'customer', external_id: String(customer.id), name: customer.nome, document: customer.cpfCnpj, observation: customer.observacao, port: customer.portId } });
  }
  out.write(`${buffer}\n]}\n`);
  out.end();
  await once(out, 'finish');
  return count;
}
