import type { SimCustomer, SimItemBase, SimNetwork, SimPort, SimSplitter } from '../network-generator.ts';
import { malformedVariantOf, type MalformedRecord, type MalformedVariant, type WireContext } from '../platform-wire.ts';
import { hashUnit } from '../seeded-random.ts';
import { equipmentOfPort } from '../simulated-viability.ts';

/**
 * GeoGrid v3 record shapes as the simulator serves them: `{dados, pasta}` items, customers,
 * equipment rows and the two port listing forms seen in real clients.
 */
export class GeoGridRecords {
  constructor(private readonly context: WireContext) {}

  private get network(): SimNetwork {
    return this.context.network;
  }

  private get seed(): number {
    return this.context.seed;
  }

  coordinate(id: number, value: number): number | string {
    // Some records carry coordinates as strings, a few with a decimal comma, as real exports do.
    if (id % 50 === 0) return String(value).replace('.', ',');
    if (id % 5 === 0) return String(value);
    return value;
  }

  corrupt(kind: MalformedRecord['kind'], id: number, record: Record<string, unknown>): unknown {
    const variants: MalformedVariant[] =
      kind === 'pole' || kind === 'box'
        ? ['not_an_object', 'text', 'no_dados', 'bad_coordinates', 'missing_id']
        : ['not_an_object', 'text', 'missing_id'];
    const variant = malformedVariantOf(this.context, kind, id, variants);
    if (variant === null) return record;
    const dados = (record.dados ?? {}) as Record<string, unknown>;
    switch (variant) {
      case 'not_an_object':
        return null;
      case 'text':
        return `registro ${id} corrompido`;
      case 'no_dados':
        return { pasta: record.pasta };
      case 'bad_coordinates':
        return { ...record, dados: { ...dados, latitude: 'sem coordenada', longitude: null } };
      case 'missing_id': {
        const { id: _id, ...rest } = dados;
        return { ...record, dados: rest };
      }
    }
  }

  item(item: SimItemBase, type: string, extra: Record<string, unknown> = {}) {
    return {
      dados: {
        id: item.id,
        item: type,
        sigla: item.sigla,
        latitude: this.coordinate(item.id, item.lat),
        longitude: this.coordinate(item.id, item.lon),
        status: item.status,
        observacao: item.observacao,
        modoProjeto: item.planned ? 'S' : 'N',
        ...extra,
      },
      pasta: { id: item.folderId },
    };
  }

  customer(customer: SimCustomer) {
    return {
      dados: {
        ...customer.extra,
        id: customer.id,
        nome: customer.nome,
        cpfCnpj: customer.cpfCnpj,
        tipo: customer.tipo,
        observacao: customer.observacao,
        codigoIntegracao: customer.codigoIntegracao,
      },
    };
  }

  equipmentRow(splitter: SimSplitter) {
    return {
      dados: { id: splitter.id, sigla: splitter.sigla, atendimento: splitter.service ? 'S' : 'N', modoProjeto: splitter.planned ? 'S' : 'N' },
      tipo: { dados: { descricao: `${splitter.ratioIn}x${splitter.ratioOut}` } },
      portas: splitter.ports.map((port) => ({ dados: { id: port.id, porta: port.number, label: port.label } })),
    };
  }

  /**
   * A port as the ports listing shows it. Real clients see two reserved markers: a comment
   * with `disponivel: "N"`, or `portaReservada: "S"` beside a `disponivel` still "S".
   */
  portData(port: SimPort) {
    const customer = port.customerId !== null ? this.network.customers.get(port.customerId) : undefined;
    const flagged = port.reserved && hashUnit(this.seed, `reserved-flag:${port.id}`) < 0.5;
    return {
      dados: { id: port.id, porta: port.number, label: port.label, comentario: port.reserved && !flagged ? 'Reservada' : null },
      disponivel: (port.reserved && !flagged) || customer ? 'N' : 'S',
      ...(flagged ? { portaReservada: 'S' } : {}),
      cliente: customer ? { id: customer.id, nome: customer.nome } : null,
    };
  }

  /**
   * One item of the batch port-count read (second survey, seen in 1 client): every equipment
   * of the item with the counts of its ports. A reserved port is neither free nor occupied.
   */
  itemPortCounts(containerId: number, splitters: SimSplitter[]) {
    return {
      idItemRede: containerId,
      equipamentos: splitters.map((splitter) => {
        const occupied = splitter.ports.filter((port) => port.customerId !== null).length;
        const reserved = splitter.ports.filter((port) => port.customerId === null && port.reserved).length;
        return {
          viabilidade: {
            entradas: splitter.ratioIn,
            saidas: splitter.ratioOut,
            ocupadasTotal: occupied,
            livres: splitter.ports.length - occupied - reserved,
            reservadas: reserved,
            reservadasCliente: 0,
          },
        };
      }),
    };
  }

  portShapeOf(containerId: number): 'flat' | 'nested' {
    return hashUnit(this.seed, `nested-ports:${containerId}`) < 0.3 ? 'nested' : 'flat';
  }

  port(port: SimPort) {
    return { ...this.portData(port), equipamento: equipmentOfPort(this.network, port) };
  }

  /**
   * The ports of a container in the flat form, or (for about a third of the containers, stable
   * per container) nested: the equipment first, its ports inside. Both are seen in real clients.
   */
  ports(containerId: number, splitters: SimSplitter[]): unknown[] {
    if (this.portShapeOf(containerId) === 'nested') {
      return splitters.map((splitter) => ({
        dados: { id: splitter.id, sigla: splitter.sigla, atendimento: splitter.service ? 'S' : 'N', modoProjeto: splitter.planned ? 'S' : 'N' },
        portas: splitter.ports.map((port) => this.portData(port)),
      }));
    }
    return splitters.flatMap((splitter) => splitter.ports.map((port) => this.port(port)));
  }
}
