import type { Knex } from 'knex';
import { reconcileBindingsWithContractStatus } from '../bindings/contract-status.ts';
import { parseContractItem, type ContractInput, type ItemError } from './customer-input.ts';
import { upsertContracts, type UpsertCounts } from './customers.repository.ts';
import { holdersOfContracts, relinkAfterImport } from '../sync/import-relinker.ts';

/** Most items one `POST /v1/customers` request (or one CSV batch) carries. */
export const MAX_ITEMS_PER_REQUEST = 1000;

export interface CustomersUpsertResult {
  /** Service contracts (the items), by outcome. */
  created: number;
  updated: number;
  unchanged: number;
  /** Their holders (ERP customers, by document), by outcome. */
  customers: UpsertCounts;
  /** Items left out, one entry per bad field. The other items are saved. */
  errors: ItemError[];
  /** Saved items with a note (two keys of one field that differ: the first was kept). */
  warnings: ItemError[];
}

export interface UpsertOptions {
  /** What an error's `index` holds for item i (default: i itself; the CSV import gives line numbers). */
  indexOf?: (position: number) => number;
}

/**
 * Validates and normalises every item, then upserts the good ones in one transaction, in
 * which the platform customers' links they change are decided again (`relinkAfterImport`).
 * One bad item never rejects the rest: it is reported with its index, service id and field.
 */
export async function upsertCustomers(knex: Knex, items: unknown[], options: UpsertOptions = {}): Promise<CustomersUpsertResult> {
  const indexOf = options.indexOf ?? ((i: number) => i);
  const errors: ItemError[] = [];
  const warnings: ItemError[] = [];
  const good: ContractInput[] = [];
  const seenAt = new Map<string, number>();

  items.forEach((raw, position) => {
    const parsed = parseContractItem(raw);
    if (!parsed.ok) {
      for (const error of parsed.errors) errors.push({ index: indexOf(position), ...error });
      return;
    }
    const first = seenAt.get(parsed.value.serviceId);
    if (first !== undefined) {
      errors.push({
        index: indexOf(position),
        serviceId: parsed.value.serviceId,
        field: 'serviceId',
        message: `appears again (first at ${indexOf(first)}); send each contract once`,
      });
      return;
    }
    seenAt.set(parsed.value.serviceId, position);
    for (const warning of parsed.warnings) warnings.push({ index: indexOf(position), ...warning });
    good.push(parsed.value);
  });

  const outcome = await knex.transaction(async (trx) => {
    // The links these contracts change are decided again at once, not at the next sync.
    const serviceIds = good.map((item) => item.serviceId);
    const previousDocuments = await holdersOfContracts(trx, serviceIds);
    const upserted = await upsertContracts(trx, good);
    await relinkAfterImport(trx, { serviceIds, documents: good.map((item) => item.document), previousDocuments });
    // A status the import changed (cancelled, active again) reaches the bindings in the same commit.
    await reconcileBindingsWithContractStatus(trx, serviceIds);
    return upserted;
  });
  return { ...outcome.contracts, customers: outcome.customers, errors, warnings };
}
