import type { Command } from 'commander';
import { printJson, println, UsageError, type CliRuntime } from '../cli-runtime.ts';

function numberOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value.trim().replace(',', '.'));
  if (value.trim() === '' || !Number.isFinite(parsed)) throw new UsageError(`--${name} must be a number (got "${value}")`);
  return parsed;
}

export function registerViabilityCommand(program: Command, cli: CliRuntime): void {
  program
    .command('viability')
    .description('nearest service boxes with free ports around a point or a contract, in metres, from the synced data (no platform call)')
    .option('--lat <degrees>', 'latitude, EPSG:4326 (e.g. -22.9056)')
    .option('--lon <degrees>', 'longitude, EPSG:4326 (e.g. -47.0608)')
    .option('--service-id <id>', "an ERP contract's id_cliente_servico: its stored location is used instead of --lat/--lon")
    .option('--radius <metres>', 'search radius in metres (default 300, at most 3000)')
    .option('-n, --limit <count>', 'how many boxes (default 5, at most 50)')
    .option('-i, --integration <id>', 'only this integration: configured, or any with a synced network in the database (default: every configured one)')
    .option('-d, --dir <folder>', 'config folder (env MAPSYNC_CONFIG_DIR, default ./config)')
    .option('--json', 'print JSON (the same answer as GET /v1/viability)')
    .action(async (options: { lat?: string; lon?: string; serviceId?: string; radius?: string; limit?: string; integration?: string; dir?: string; json?: boolean }) => {
      const lat = numberOption('lat', options.lat);
      const lon = numberOption('lon', options.lon);
      if (options.serviceId !== undefined && (lat !== undefined || lon !== undefined)) throw new UsageError('give either --lat and --lon, or --service-id, not both');
      if (options.serviceId === undefined && (lat === undefined || lon === undefined)) throw new UsageError('give --lat and --lon (EPSG:4326), or --service-id');
      const radius = numberOption('radius', options.radius);
      const limit = numberOption('limit', options.limit);
      // Loaded when the command runs: `mapsync --help` and the other commands start without them.
      const [{ openDatabase }, { findViableBoxes, freePortsBySplitter, ViabilityError }, { defaultConfigDirectory, loadConfig }, { cliLogger }] = await Promise.all([
        import('../../db/database.ts'),
        import('../../map/viability.service.ts'),
        import('../../config/config.loader.ts'),
        import('../cli-integration.ts'),
      ]);
      const configured = loadConfig(options.dir ?? defaultConfigDirectory(cli.env), cli.env).config.integrations.map((integration) => integration.id);
      const database = await openDatabase(cliLogger(cli), cli.env);
      try {
        // Viability reads only the synced tables: any integration with a network there will
        // do, configured or not (the demo's, for one).
        if (options.integration !== undefined) {
          const synced = await database.knex.raw<{ rows: { found: boolean }[] }>('SELECT EXISTS (SELECT 1 FROM boxes WHERE integration_id = ?) AS found', [options.integration]);
          if (!synced.rows[0]?.found) {
            const state = configured.includes(options.integration) ? 'is configured but' : `is not configured (configured: ${configured.join(', ') || '(none)'}) and`;
            throw new UsageError(`integration "${options.integration}" ${state} has no synced network in the database; run \`mapsync sync ${options.integration}\` first`);
          }
        }
        const answer = await findViableBoxes(database.knex, {
          at: options.serviceId !== undefined ? { serviceId: options.serviceId } : { lat: lat!, lon: lon! },
          ...(radius !== undefined ? { radiusMetres: radius } : {}),
          ...(limit !== undefined ? { limit } : {}),
          // No integration configured (the demo database): every synced one.
          ...(options.integration !== undefined ? { integrationIds: [options.integration] } : configured.length > 0 ? { integrationIds: configured } : {}),
        }).catch((error: unknown) => {
          if (error instanceof ViabilityError) throw new UsageError(error.message);
          throw error;
        });
        if (options.json) return printJson(cli, answer);
        const { origin } = answer;
        const from = origin.source === 'contract' ? `contract ${origin.serviceId} (${origin.address ?? 'no address'}) at ${origin.lat}, ${origin.lon}` : `${origin.lat}, ${origin.lon}`;
        if (answer.boxes.length === 0) {
          println(cli.stdout, `No box with a free service port within ${answer.radiusMetres} m of ${from}.`);
          return;
        }
        println(cli.stdout, `Boxes with free service ports within ${answer.radiusMetres} m of ${from}, nearest first:`);
        println(cli.stdout, `${'metres'.padStart(8)}  ${'box'.padEnd(24)} ${'integration'.padEnd(16)} ${'free'.padStart(4)}  ports (splitter: port numbers)`);
        for (const box of answer.boxes) {
          const ports = freePortsBySplitter(box.freePorts).map(({ label, numbers }) => `${label}: ${numbers.join(',')}`).join('; ');
          println(
            cli.stdout,
            `${box.distanceMetres.toFixed(1).padStart(8)}  ${(box.name ?? box.externalId).padEnd(24)} ${box.integrationId.padEnd(16)} ${String(box.freePortCount).padStart(4)}  ${ports}`,
          );
        }
      } finally {
        await database.close();
      }
    });
}
