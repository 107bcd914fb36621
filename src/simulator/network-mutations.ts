import type { SimBox, SimNetwork, SimPort, SimSplitter } from './network-generator.ts';

/**
 * Changes people make to a network on the platform over time, applied to a simulator's
 * network in place: equipment moved between boxes and poles, ports renumbered, equipment
 * renamed or re-rated, boxes added. Ids stay what the platform keeps (a moved splitter keeps
 * its id and its ports'). Each change tells the simulator, so its cached lists are rebuilt.
 * Used by the tests and the demo; the server's own control surface covers the rest
 * (bind, unbind, flag, move or delete an item).
 */
export interface MutableSimulator {
  network: SimNetwork;
  touch(): void;
}

export class NetworkMutations {
  constructor(private readonly sim: MutableSimulator) {}

  private get network(): SimNetwork {
    return this.sim.network;
  }

  private splitter(id: number): SimSplitter {
    const splitter = this.network.splitters.get(id);
    if (!splitter) throw new Error(`no splitter ${id}`);
    return splitter;
  }

  private port(id: number): SimPort {
    const port = this.network.ports.get(id);
    if (!port) throw new Error(`no port ${id}`);
    return port;
  }

  /** Moves a splitter, with its ports and their customers, into another box or onto a pole. */
  moveSplitter(splitterId: number, containerId: number): void {
    const splitter = this.splitter(splitterId);
    const kind = this.network.boxes.has(containerId) ? 'box' : this.network.poles.has(containerId) ? 'pole' : null;
    if (!kind) throw new Error(`no pole or box ${containerId}`);
    if (splitter.containerId === containerId) return;
    const rest = (this.network.splittersByContainer.get(splitter.containerId) ?? []).filter((s) => s.id !== splitterId);
    if (rest.length > 0) this.network.splittersByContainer.set(splitter.containerId, rest);
    else this.network.splittersByContainer.delete(splitter.containerId);
    splitter.containerId = containerId;
    splitter.containerKind = kind;
    for (const port of splitter.ports) port.containerId = containerId;
    this.network.splittersByContainer.set(containerId, [...(this.network.splittersByContainer.get(containerId) ?? []), splitter]);
    this.sim.touch();
  }

  /** Gives a port another position on its splitter. */
  renumberPort(portId: number, number: number): void {
    this.port(portId).number = number;
    this.sim.touch();
  }

  /** Sets (or, with null, clears) a port's label. */
  setPortLabel(portId: number, label: string | null): void {
    this.port(portId).label = label;
    this.sim.touch();
  }

  renameSplitter(splitterId: number, sigla: string): void {
    this.splitter(splitterId).sigla = sigla;
    this.sim.touch();
  }

  /**
   * Changes a splitter's ratio to 1xN, as swapping the equipment kind does: ports past N go
   * (their customers lose the port), missing ones are added with new ids.
   */
  changeRatio(splitterId: number, ratioOut: number): void {
    const splitter = this.splitter(splitterId);
    if (!Number.isInteger(ratioOut) || ratioOut < 2) throw new Error(`ratio 1x${ratioOut} is not a splitter`);
    splitter.ratioOut = ratioOut;
    while (splitter.ports.length > ratioOut) {
      const port = splitter.ports.pop()!;
      this.detachCustomer(port);
      this.network.ports.delete(port.id);
    }
    const used = new Set(splitter.ports.map((p) => p.number));
    for (let n = 1; splitter.ports.length < ratioOut; n += 1) {
      if (used.has(n)) continue;
      const port: SimPort = { id: this.network.nextIds.port++, splitterId, containerId: splitter.containerId, number: n, label: null, reserved: false, customerId: null };
      splitter.ports.push(port);
      this.network.ports.set(port.id, port);
    }
    this.sim.touch();
  }

  /** Puts an existing customer on a free port (off any port it was on). */
  bindCustomer(portId: number, customerId: number): void {
    const port = this.port(portId);
    const customer = this.network.customers.get(customerId);
    if (!customer) throw new Error(`no customer ${customerId}`);
    if (port.customerId !== null && port.customerId !== customerId) throw new Error(`port ${portId} is taken`);
    if (customer.portId !== null) {
      const previous = this.network.ports.get(customer.portId);
      if (previous && previous.customerId === customerId) previous.customerId = null;
    }
    port.customerId = customerId;
    customer.portId = portId;
    this.sim.touch();
  }

  /** Sets a pole's or box's `status` as the item listing shows it (e.g. "Implantado", "Em manutenção"). */
  setItemStatus(itemId: number, status: string): void {
    const item = this.network.poles.get(itemId) ?? this.network.boxes.get(itemId);
    if (!item) throw new Error(`no pole or box ${itemId}`);
    item.status = status;
    this.sim.touch();
  }

  /** A new box at a position, hanging on a pole when given; returns it. */
  addBox(input: { item: SimBox['item']; lat: number; lon: number; poleId: number | null; folderId: number; sigla?: string }): SimBox {
    const box: SimBox = {
      id: this.network.nextIds.item++,
      folderId: input.folderId,
      sigla: input.sigla ?? `${input.item === 'terminal' ? 'CTO' : 'CEO'}-N${this.network.boxes.size + 1}`,
      lat: input.lat,
      lon: input.lon,
      observacao: null,
      status: 'Implantado',
      item: input.item,
      poleId: input.poleId,
    };
    this.network.boxes.set(box.id, box);
    this.sim.touch();
    return box;
  }

  private detachCustomer(port: SimPort): void {
    if (port.customerId === null) return;
    const customer = this.network.customers.get(port.customerId);
    if (customer && customer.portId === port.id) customer.portId = null;
    port.customerId = null;
  }
}
