import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { CsvImportProgress, CsvImportResult } from '../../customers/customers-csv-import.ts';
import { EXIT, printJson, println, UsageError, type CliRuntime } from '../cli-runtime.ts';

/** Errors listed in the summary; --json prints them all. */
const SHOWN_ERRORS = 50;

export function registerCustomersCommand(program: Command, cli: CliRuntime): void {
  const customers = program.command('customers').description('ERP customers and their service contracts');
  customers
    .command('import')
    .description('bulk upsert ERP customers and their service contracts from a CSV file')
    .argument('<file.csv>', 'CSV with a header row; ";" or "," delimited; UTF-8 (a BOM is fine)')
    .option('--json', 'print the result (counts and every error) as JSON on stdout')
    .addHelpText(
      'after',
      [
        '',
        'Columns (header names are case-insensitive; Portuguese names work too; others are ignored):',
        '  service_id (id_cliente_servico)  required',
        '  document (cpf_cnpj)              required: CPF or CNPJ, numeric or alphanumeric, any punctuation',
        '  name (nome)                      required',
        '  person_type                      person|company (F/J); derived from the document when empty',
        '  status                           active|inactive|suspended|cancelled; default active',
        '  address, lat, lon, email, phone, city, state, zip_code   optional; empty keeps what is stored',
        '',
        'Good rows are saved even when others are rejected; each rejected row is listed with its line number.',
        'Exit status: 0 every row saved, 1 some rows rejected (or the file is broken part-way), 2 usage error',
        '(missing file, missing required columns).',
      ].join('\n'),
    )
    .action(async (file: string, options: { json?: boolean }) => {
      if (!existsSync(file)) throw new UsageError(`${file}: no such file`);
      // Loaded when the command runs: `mapsync --help` and the other commands start without them.
      const [{ CsvImportError, importContractsCsv }, { openDatabase }, { migrateLatest }, { cliLogger }, { default: cliProgress }] = await Promise.all([
        import('../../customers/customers-csv-import.ts'),
        import('../../db/database.ts'),
        import('../../db/migrator.ts'),
        import('../cli-integration.ts'),
        import('cli-progress'),
      ]);
      const database = await openDatabase(cliLogger(cli), cli.env);
      const display = progressDisplay(cli, path.basename(file), cliProgress);
      try {
        if (cli.env.MAPSYNC_AUTO_MIGRATE !== '0') await migrateLatest(database.knex);
        let result: CsvImportResult;
        try {
          result = await importContractsCsv(database.knex, file, { onProgress: (progress) => display.update(progress) });
        } catch (error) {
          if (error instanceof CsvImportError) throw new UsageError(error.message);
          throw error;
        } finally {
          display.stop();
        }
        if (options.json) printJson(cli, result);
        else printSummary(cli, result);
        cli.exitCode = result.rejectedRows > 0 || result.stoppedAt ? EXIT.runFailed : EXIT.ok;
      } finally {
        await database.close();
      }
    });
}

function printSummary(cli: CliRuntime, result: CsvImportResult): void {
  const saved = result.created + result.updated + result.unchanged;
  println(
    cli.stdout,
    `${result.file}: ${result.rows} row(s); ${saved} contract(s) saved (${result.created} created, ${result.updated} updated, ${result.unchanged} unchanged); ` +
      `${result.rejectedRows} row(s) rejected`,
  );
  println(
    cli.stdout,
    `customers: ${result.customers.created} created, ${result.customers.updated} updated, ${result.customers.unchanged} unchanged`,
  );
  if (result.stoppedAt) println(cli.stdout, `stopped early, the file is broken: ${result.stoppedAt}`);
  for (const error of result.errors.slice(0, SHOWN_ERRORS)) {
    println(cli.stdout, `  line ${error.line}${error.serviceId ? ` (service ${error.serviceId})` : ''}: ${error.field} ${error.message}`);
  }
  if (result.errors.length > SHOWN_ERRORS) {
    println(cli.stdout, `  … and ${result.errors.length - SHOWN_ERRORS} more error(s); --json lists them all`);
  }
}

/** A bar on a terminal (stderr); nothing elsewhere, so logs and pipes stay clean. */
function progressDisplay(
  cli: CliRuntime,
  title: string,
  cliProgress: typeof import('cli-progress'),
): { update(progress: CsvImportProgress): void; stop(): void } {
  const stream = cli.stderr as NodeJS.WriteStream;
  if (!stream.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${title} [{bar}] {percentage}% | {rows} rows | {errors} error(s)`,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(progress) {
      if (!started) {
        bar.start(Math.max(1, progress.totalBytes), 0, { rows: 0, errors: 0 });
        started = true;
      }
      bar.update(Math.min(progress.bytes, progress.totalBytes), { rows: progress.rows, errors: progress.errors });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
