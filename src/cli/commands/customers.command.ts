import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { CsvImportProgress, CsvImportResult, CsvRowError } from '../../customers/customers-csv-import.ts';
import { EXIT, printJson, println, UsageError, type CliRuntime } from '../cli-runtime.ts';

/** Errors listed in the summary; --json prints them all. */
const SHOWN_ERRORS = 50;

export function registerCustomersCommand(program: Command, cli: CliRuntime): void {
  const customers = program.command('customers').description('ERP customers and their service contracts');
  customers
    .command('import')
    .description('bulk upsert ERP customers and their service contracts from a CSV file')
    .argument('<file.csv>', 'CSV with a header row; ";", ",", tab or "|" delimited; UTF-8 or Windows-1252 (Excel\'s CSV is fine)')
    .option('--json', 'print the result (counts and every error) as JSON on stdout')
    .addHelpText(
      'after',
      [
        '',
        'Columns (header names ignore case, accents, spaces and punctuation; the names of IXC, SGP, MK,',
        'Voalle and HubSoft exports work; other columns are ignored and listed):',
        '  service_id (id_cliente_servico, contrato)  required',
        '  document (cpf_cnpj, CPF/CNPJ, cpf, cnpj)   required: CPF or CNPJ, numeric or alphanumeric, any punctuation',
        '  name (nome, razão social)                  required',
        '  person_type                      person|company (F/J); derived from the document when empty',
        '  status (situação)                active|inactive|suspended|cancelled (ativo, cancelado…); default active, said in the summary',
        '  address (endereço; número, complemento, bairro are joined to it), lat, lon, email, phone (telefone,',
        '  celular), city, state, zip_code (cep), coordinates (coordenadas: "lat; lon")   optional; empty keeps what is stored',
        'Two columns for one field (CPF and CNPJ, Telefone and Celular) are merged; two different documents,',
        'service ids or statuses reject the row, other differences keep the first column and give a warning.',
        '',
        'Good rows are saved even when others are rejected; each rejected row is listed with the line it',
        'starts on in an editor. A broken line (a quote never closed) is rejected and reading goes on.',
        'Exit status: 0 every row saved, 1 some rows rejected, 2 usage error (missing file, no header with',
        'the required columns, an unrecognised status-like column, an encoding that cannot be told).',
      ].join('\n'),
    )
    .action(async (file: string, options: { json?: boolean }) => {
      if (!existsSync(file)) throw new UsageError(`${file}: no such file`);
      // Loaded when the command runs: `mapsync --help` and the other commands start without them.
      const [{ CsvImportError, importContractsCsv }, { openDatabase }, { migrateLatest }, { cliLogger, embeddedDatabaseNotice }, { default: cliProgress }] = await Promise.all([
        import('../../customers/customers-csv-import.ts'),
        import('../../db/database.ts'),
        import('../../db/migrator.ts'),
        import('../cli-integration.ts'),
        import('cli-progress'),
      ]);
      const database = await openDatabase(cliLogger(cli), cli.env, embeddedDatabaseNotice(cli));
      const display = progressDisplay(cli, path.basename(file), cliProgress);
      try {
        if (cli.env.MAPSYNC_AUTO_MIGRATE !== '0') await migrateLatest(database.knex);
        let result: CsvImportResult;
        try {
          result = await importContractsCsv(database.knex, file, { onProgress: (progress) => display.update(progress) });
        } catch (error) {
          if (error instanceof CsvImportError) {
            // A script reading --json still gets an answer on stdout when the whole file is refused.
            if (options.json) printJson(cli, { refused: true, message: error.message });
            throw new UsageError(error.message);
          }
          throw error;
        } finally {
          display.stop();
        }
        if (options.json) printJson(cli, result);
        else printSummary(cli, result);
        cli.exitCode = result.rejectedRows > 0 ? EXIT.runFailed : EXIT.ok;
      } finally {
        await database.close();
      }
    });
}

const ENCODING_NAMES: Readonly<Record<string, string>> = {
  'utf-8': 'UTF-8',
  'utf-16le': 'UTF-16',
  'utf-16be': 'UTF-16 (big-endian)',
  'windows-1252': 'Windows-1252 (the file is not UTF-8)',
};

function printSummary(cli: CliRuntime, result: CsvImportResult): void {
  const out = (text: string) => println(cli.stdout, text);
  const delimiter = result.delimiter === '\t' ? 'tab' : `"${result.delimiter}"`;
  out(`${result.file}: read as ${ENCODING_NAMES[result.encoding]}, delimiter ${delimiter}, header on line ${result.headerLine}`);
  if (result.unrecognisedColumns.length > 0) {
    out(
      `columns NOT read although they look like a known field: ` +
        result.unrecognisedColumns.map((c) => `"${c.header}" (${c.looksLike}?)`).join(', ') +
        ' (rename them to be read)',
    );
  }
  if (result.ignoredColumns.length > 0) out(`columns ignored: ${result.ignoredColumns.map((name) => `"${name}"`).join(', ')}`);
  if (result.assumedStatus) out(`no status column: every contract was saved as ${result.assumedStatus}`);
  const skippedDetail = Object.entries(result.skipped).map(([reason, count]) => `${reason}: ${count}`).join(', ');
  out(
    `${result.rows} row(s); ${result.saved} contract(s) saved (${result.created} created, ${result.updated} updated, ${result.unchanged} unchanged); ` +
      `${result.rejectedRows} row(s) rejected; ${result.skippedRows} row(s) skipped${skippedDetail ? ` (${skippedDetail})` : ''}`,
  );
  out(`customers: ${result.customers.created} created, ${result.customers.updated} updated, ${result.customers.unchanged} unchanged`);
  if (result.brokenLines.length > 0) {
    out(`${result.brokenLines.length} broken line(s) could not be read as CSV (rejected above); reading went on with the next line each time`);
  }
  const line = (error: CsvRowError) =>
    `  line ${error.line}${error.serviceId ? ` (service ${error.serviceId})` : ''}: ${error.field === '(line)' ? '' : `${error.field} `}${error.message}`;
  for (const error of result.errors.slice(0, SHOWN_ERRORS)) out(line(error));
  if (result.errors.length > SHOWN_ERRORS) out(`  … and ${result.errors.length - SHOWN_ERRORS} more error(s); --json lists them all`);
  if (result.warnings.length > 0) {
    out(`${result.warnings.length} warning(s) (saved):`);
    for (const warning of result.warnings.slice(0, SHOWN_ERRORS)) out(line(warning));
    if (result.warnings.length > SHOWN_ERRORS) out(`  … and ${result.warnings.length - SHOWN_ERRORS} more warning(s); --json lists them all`);
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
