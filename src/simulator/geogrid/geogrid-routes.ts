import type http from 'node:http';
import { addApiCustomer, type SimBox, type SimCustomer, type SimItemBase } from '../network-generator.ts';
import { HttpAnswer, fieldError, ok, type PlatformWire, type WireContext } from '../platform-wire.ts';
import { serviceEquipmentHolders } from '../simulated-viability.ts';
import { GeoGridRecords } from './geogrid-records.ts';

/**
 * The GeoGrid v3 routes the simulator serves (the subset `src/platforms/geogrid/geogrid.wire.ts`
 * reads and writes), under `/api/v3`, authenticated by the `api-key` header.
 */

/** How far `local` of a bind may be from the equipment's container. */
const LOCAL_TOLERANCE_METRES = 2;

export interface GeoGridWire extends PlatformWire {
  /** How the ports listing of a container is shaped: flat port records, or nested in their equipment. */
  portShapeOf(containerId: number): 'flat' | 'nested';
  /**
   * Whether `GET /equipamentos/itemRede/portas?itensRede[]=…` (port counts of several items in
   * one call) is answered; refused, it answers 404 as an account without it would.
   */
  setBatchReads(answered: boolean): void;
}

export interface GeoGridWireOptions {
  /** Answer the batch port-count read (default true). */
  batchReads?: boolean;
}

/** Items per batch port-count read; more are refused with 400, as a URL too long would be. */
export const MAX_BATCH_ITEMS = 100;

/** Metres between two EPSG:4326 points (equirectangular: exact enough at a few metres). */
const metresBetween = (a: { lat: number; lon: number }, b: { lat: number; lon: number }) => {
  const cosLat = Math.cos((((a.lat + b.lat) / 2) * Math.PI) / 180);
  return Math.hypot((a.lat - b.lat) * 111_320, (a.lon - b.lon) * 111_320 * cosLat);
};

export function createGeoGridWire(context: WireContext, token: string, options: GeoGridWireOptions = {}): GeoGridWire {
  const { network, writes } = context;
  let batchReads = options.batchReads ?? true;
  const records = new GeoGridRecords(context);
  const findItem = (id: number): SimItemBase | SimBox | undefined => network.poles.get(id) ?? network.boxes.get(id);

  const itemsOf = (types: string[]): unknown[] =>
    context.cachedList(`items:${[...types].sort().join(',')}:${context.faults().malformedRate ?? 0}`, () => {
      const out: unknown[] = [];
      if (types.includes('poste') && !context.polesHidden()) {
        for (const pole of network.poles.values()) out.push(records.corrupt('pole', pole.id, records.item(pole, 'poste')));
      }
      const boxTypes = types.filter((t) => t === 'terminal' || t === 'caixa');
      if (boxTypes.length > 0) {
        for (const box of network.boxes.values()) {
          if (!boxTypes.includes(box.item)) continue;
          out.push(records.corrupt('box', box.id, records.item(box, box.item, box.poleId !== null ? { idPoste: box.poleId } : {})));
        }
      }
      return out;
    });

  const customersList = (): unknown[] =>
    context.cachedList(`customers:${context.faults().malformedRate ?? 0}`, () =>
      [...network.customers.values()].map((c) => records.corrupt('customer', c.id, records.customer(c))),
    );

  /** `modoProjeto=N` (or `modoProjeto[]=N`): leave planned items out. */
  const builtOnly = (params: URLSearchParams) => [...params.getAll('modoProjeto'), ...params.getAll('modoProjeto[]')].includes('N');

  const paged = (list: unknown[], params: URLSearchParams) => {
    const page = Math.max(1, Number(params.get('pagina') ?? '1') || 1);
    const perPage = Math.min(1000, Math.max(1, Number(params.get('registrosPorPagina') ?? '200') || 200));
    return { registros: list.slice((page - 1) * perPage, page * perPage), totalRegistros: String(list.length) };
  };

  const saveCustomer = (customer: SimCustomer, dados: Record<string, unknown>) => {
    const { id: _id, nome, cpfCnpj, tipo, observacao, codigoIntegracao, ...extra } = dados;
    if (typeof nome === 'string') customer.nome = nome;
    if (cpfCnpj !== undefined) customer.cpfCnpj = cpfCnpj === null ? null : String(cpfCnpj);
    if (tipo === 'F' || tipo === 'J') customer.tipo = tipo;
    if (observacao !== undefined) customer.observacao = observacao === null ? null : String(observacao);
    if (codigoIntegracao !== undefined) customer.codigoIntegracao = codigoIntegracao === null ? null : String(codigoIntegracao);
    customer.extra = { ...customer.extra, ...extra };
    context.touch();
  };

  const validateCustomer = (dados: Record<string, unknown>, existing: SimCustomer | null): Record<string, string> | null => {
    const errors: Record<string, string> = {};
    const nome = dados.nome ?? existing?.nome;
    if (typeof nome !== 'string' || nome.trim() === '') errors.nome = 'Nome é obrigatório';
    const tipo = dados.tipo ?? existing?.tipo;
    if (tipo !== 'F' && tipo !== 'J') errors.tipo = 'Tipo de cliente é obrigatório';
    if (dados.estado !== undefined && dados.estado !== null && !/^[A-Za-z]{2}$/.test(String(dados.estado))) {
      errors.estado = 'UF deve ter 2 letras';
    }
    const code = dados.codigoIntegracao;
    if (code !== undefined && code !== null && String(code) !== '') {
      for (const other of network.customers.values()) {
        if (other.codigoIntegracao === String(code) && other !== existing) {
          errors.codigoIntegracao = 'Código de integração já está cadastrado';
          break;
        }
      }
    }
    return Object.keys(errors).length > 0 ? errors : null;
  };

  const bind = (body: unknown): HttpAnswer => {
    const request = (body ?? {}) as Record<string, unknown>;
    const record = (status: number, answer: HttpAnswer) => {
      writes.binds.push({ body, status });
      return answer;
    };
    const errors: Record<string, string> = {};
    if (request.idPorta === undefined || request.idPorta === null) errors.idPorta = 'Porta é obrigatória';
    if (request.idCliente === undefined || request.idCliente === null) errors.idCliente = 'Cliente é obrigatório';
    if (Object.keys(errors).length > 0) return record(400, fieldError(400, errors));
    const port = network.ports.get(Number(request.idPorta));
    if (!port) return record(404, fieldError(404, { idPorta: 'Porta não encontrada' }));
    const customer = network.customers.get(Number(request.idCliente));
    if (!customer) return record(404, fieldError(404, { idCliente: 'Cliente não encontrado' }));
    if (port.reserved) return record(400, fieldError(400, { portaReservada: 'A porta está reservada' }));
    if (port.customerId !== null && port.customerId !== customer.id) {
      // [seen, 1] 409 when the port is already taken.
      return record(409, fieldError(409, { idPorta: 'A porta já está em uso por outro cliente' }));
    }
    const container = findItem(port.containerId);
    const splitter = network.splitters.get(port.splitterId);
    if (port.planned || splitter?.planned || container?.planned) {
      return record(400, fieldError(400, { modoProjeto: 'O equipamento está em modo projeto e não pode atender clientes' }));
    }
    // [seen, 1] The platform binds straight to the port only when `local` is at the equipment
    // (about 2 m); the simulator refuses anything else, so a client sending the house shows.
    const local = request.local as { latitude?: unknown; longitude?: unknown } | undefined;
    if (local !== undefined && container) {
      const lat = Number(local?.latitude);
      const lon = Number(local?.longitude);
      if (!Number.isFinite(lat) || !Number.isFinite(lon)) return record(400, fieldError(400, { local: 'Local inválido' }));
      const distance = metresBetween({ lat, lon }, container);
      if (distance > LOCAL_TOLERANCE_METRES) {
        return record(
          400,
          fieldError(400, { local: `O local está a ${distance.toFixed(1)} m do equipamento; para atender direto na porta informe a posição da caixa` }),
        );
      }
    }
    port.customerId = customer.id;
    customer.portId = port.id;
    context.touch();
    if (context.takeBindFailureAfterSuccess()) return record(500, new HttpAnswer(500, { mensagem: 'Erro interno' }));
    return record(200, ok({ mensagem: 'Cliente atendido com sucesso' }));
  };

  const route = (method: string, path: string, params: URLSearchParams, body: unknown): [string, HttpAnswer] => {
    const parts = path.split('/').filter(Boolean);
    const [a, b, c, d] = parts;
    if (a === 'pastas' && parts.length === 1 && method === 'GET') {
      return ['GET /pastas', ok(paged(network.folders.map((f) => ({ ...f })), params))];
    }
    if (a === 'itensRede' && parts.length === 1 && method === 'GET') {
      const types = [...params.getAll('item[]'), ...params.getAll('item')];
      if (types.length === 0) return ['GET /itensRede', fieldError(400, { item: 'Informe o tipo de item' })];
      const items = itemsOf(types);
      // Clients that want only built items pass modoProjeto=N.
      const listed = builtOnly(params) ? items.filter((record) => (record as { dados?: { modoProjeto?: unknown } } | null)?.dados?.modoProjeto !== 'S') : items;
      return ['GET /itensRede', ok(paged(listed, params))];
    }
    if (a === 'diagrama' && b === 'equipamentos' && c && parts.length === 3 && method === 'GET') {
      const id = Number(c);
      if (!network.poles.has(id) && !network.boxes.has(id)) {
        return ['GET /diagrama/equipamentos/:id', new HttpAnswer(404, { naoEncontrado: 'Item de rede não encontrado' })];
      }
      const rows: unknown[] = (network.splittersByContainer.get(id) ?? []).map((s) => records.corrupt('splitter', s.id, records.equipmentRow(s)));
      if (network.boxes.get(id)?.item === 'caixa') {
        rows.push({ dados: { id: 9_000_000_000 + id, sigla: 'BANDEJA' }, tipo: { dados: { descricao: 'Bandeja de emenda 12F' } }, portas: [] });
      }
      return ['GET /diagrama/equipamentos/:id', ok({ registros: rows, totalRegistros: String(rows.length) })];
    }
    if (a === 'equipamentos' && b === 'itemRede' && c === 'portas' && parts.length === 3 && method === 'GET') {
      const name = 'GET /equipamentos/itemRede/portas';
      if (!batchReads) return [name, new HttpAnswer(404, { mensagem: `Rota não encontrada: ${method} ${path}` })];
      const ids = [...params.getAll('itensRede[]'), ...params.getAll('itensRede')];
      if (ids.length === 0) return [name, fieldError(400, { itensRede: 'Informe os itens de rede' })];
      if (ids.length > MAX_BATCH_ITEMS) return [name, fieldError(400, { itensRede: `Informe no máximo ${MAX_BATCH_ITEMS} itens de rede` })];
      // An item the platform does not know is left out of the answer.
      const known = ids.map(Number).filter((id) => network.poles.has(id) || network.boxes.has(id));
      return [name, ok({ itensRede: known.map((id) => records.itemPortCounts(id, network.splittersByContainer.get(id) ?? [])) })];
    }
    if (a === 'equipamentos' && b === 'itemRede' && c && d === 'portas' && parts.length === 4 && method === 'GET') {
      const id = Number(c);
      if (!network.poles.has(id) && !network.boxes.has(id)) {
        return ['GET /equipamentos/itemRede/:id/portas', new HttpAnswer(404, { naoEncontrado: 'Item de rede não encontrado' })];
      }
      const onlyService = params.getAll('atendimento[]').includes('S');
      const onlyBuilt = builtOnly(params);
      const container = findItem(id);
      const splitters = (network.splittersByContainer.get(id) ?? []).filter(
        (splitter) => (!onlyService || splitter.service) && (!onlyBuilt || (!splitter.planned && !container?.planned)),
      );
      return ['GET /equipamentos/itemRede/:id/portas', ok(paged(records.ports(id, splitters), params))];
    }
    if (a === 'clientes') {
      if (parts.length === 1 && method === 'GET') return ['GET /clientes', ok(paged(customersList(), params))];
      if (parts.length === 1 && method === 'POST') {
        const dados = (body as { dados?: unknown } | null)?.dados;
        if (!dados || typeof dados !== 'object') return ['POST /clientes', fieldError(400, { dados: 'Dados do cliente são obrigatórios' })];
        const errors = validateCustomer(dados as Record<string, unknown>, null);
        if (errors) return ['POST /clientes', fieldError(400, errors)];
        const customer = addApiCustomer(network);
        saveCustomer(customer, dados as Record<string, unknown>);
        writes.customersCreated.push({ id: customer.id, body });
        return ['POST /clientes', new HttpAnswer(201, records.customer(customer))];
      }
      if (b === 'integrado' && c && parts.length === 3 && method === 'GET') {
        const code = decodeURIComponent(c);
        const found = [...network.customers.values()].find((x) => x.codigoIntegracao === code);
        return ['GET /clientes/integrado/:codigo', ok(found ? records.customer(found) : { naoEncontrado: 'Cliente não encontrado' })];
      }
      if (b && parts.length === 2) {
        const customer = network.customers.get(Number(b));
        if (method === 'GET') {
          return ['GET /clientes/:id', customer ? ok(records.customer(customer)) : new HttpAnswer(404, { naoEncontrado: 'Cliente não encontrado' })];
        }
        if (method === 'PUT') {
          if (!customer) return ['PUT /clientes/:id', new HttpAnswer(404, { naoEncontrado: 'Cliente não encontrado' })];
          const dados = (body as { dados?: unknown } | null)?.dados;
          if (!dados || typeof dados !== 'object') return ['PUT /clientes/:id', fieldError(400, { dados: 'Dados do cliente são obrigatórios' })];
          const errors = validateCustomer(dados as Record<string, unknown>, customer);
          if (errors) return ['PUT /clientes/:id', fieldError(400, errors)];
          saveCustomer(customer, dados as Record<string, unknown>);
          writes.customersUpdated.push({ id: customer.id, body });
          return ['PUT /clientes/:id', ok(records.customer(customer))];
        }
      }
    }
    if (a === 'integracao' && b === 'atender') {
      if (parts.length === 2 && method === 'POST') return ['POST /integracao/atender', bind(body)];
      if (c && d && parts.length === 4 && method === 'DELETE') {
        const port = network.ports.get(Number(c));
        let answer: HttpAnswer;
        if (!port || port.customerId !== Number(d)) {
          answer = new HttpAnswer(404, { naoEncontrado: 'Atendimento não encontrado' });
        } else {
          const customer = network.customers.get(port.customerId);
          if (customer && customer.portId === port.id) customer.portId = null;
          port.customerId = null;
          context.touch();
          answer = ok({ mensagem: 'Atendimento removido' });
        }
        writes.unbinds.push({ portId: c, customerId: d, status: answer.status });
        return ['DELETE /integracao/atender/:porta/:cliente', answer];
      }
    }
    if (a === 'viabilidade' && b === 'raio' && parts.length === 2 && method === 'GET') {
      const query = ['latitude', 'longitude', 'raio', 'equipamentosAtendimento[]'].map((k) => params.getAll(k).join(',')).join('|');
      try {
        return ['GET /viabilidade/raio', ok(paged(context.cachedList(`viability:${query}`, () => serviceEquipmentHolders(network, params)), params))];
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
        return ['GET /viabilidade/raio', fieldError(400, { raio: error.message })];
      }
    }
    const unknown = new HttpAnswer(404, { mensagem: `Rota não encontrada: ${method} ${path}` });
    if (method !== 'GET' && method !== 'HEAD') writes.otherWrites.push({ method, path, status: unknown.status });
    return [`${method} (unknown)`, unknown];
  };

  return {
    apiMarker: '/api/v3',
    apiUrl: (origin) => `${origin}/isp`,
    isPublic: () => false,
    authorized: (req: http.IncomingMessage) => req.headers['api-key'] === token,
    unauthorized: () => new HttpAnswer(401, { mensagem: 'Chave de API inválida' }),
    message: (text) => ({ mensagem: text }),
    bodyMethods: new Set(['POST', 'PUT']),
    route,
    portShapeOf: (containerId) => records.portShapeOf(containerId),
    setBatchReads(answered) {
      batchReads = answered;
    },
  };
}
