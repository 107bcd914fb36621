import http from 'node:http';
import https from 'node:https';
import axios, {
  AxiosError,
  CanceledError,
  type AxiosInstance,
  type AxiosRequestConfig,
  type InternalAxiosRequestConfig,
} from 'axios';
import axiosRetry from 'axios-retry';
import { PlatformError, fieldErrorsOf, platformMessageOf } from './platform-error.ts';
import { RequestLimiter } from './request-limiter.ts';
import type { PlatformRequestTally } from './request-tally.ts';

declare module 'axios' {
  interface AxiosRequestConfig {
    /** Allow retrying this non-idempotent call (only when the caller knows it is safe). */
    platformRetryUnsafe?: boolean;
    /** Internal: this attempt holds a limiter slot. */
    platformHoldsSlot?: boolean;
    /** Internal: when the attempt started, for metrics. */
    platformStartedAt?: number;
    platformAttempt?: number;
    /** Internal: the wall-clock limit of this attempt, and whether it ended it. */
    platformDeadline?: NodeJS.Timeout;
    platformDeadlineHit?: boolean;
    /** Internal: aborts this attempt (wall-clock limit, or the caller's signal). */
    platformAbort?: AbortController;
    /** Internal: the caller's abort signal, its tally and the call's endpoint family. */
    platformSignal?: AbortSignal;
    platformTally?: PlatformRequestTally;
    platformFamily?: string;
  }
}

export interface PlatformHttpLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface RequestInfo {
  platform: string;
  method: string;
  endpoint: string;
  /** The endpoint family the adapter named (CallOptions.family), else the endpoint with ids folded. */
  family: string;
  attempt: number;
}

export interface ResponseInfo extends RequestInfo {
  status: number | null;
  durationMs: number;
  outcome: 'ok' | 'http_error' | 'timeout' | 'network_error';
}

/** How an adapter reaches its platform: the settings every platform adapter takes alike. */
export interface PlatformConnectionOptions {
  apiUrl: string;
  http?: Pick<PlatformHttpClientOptions, 'concurrency' | 'requestsPerMinute' | 'timeoutMs' | 'retries' | 'retryBaseDelayMs'>;
  /** Trusted CA (PEM) for a platform with a private certificate, e.g. the local simulator. */
  ca?: string | Buffer;
  adapter?: PlatformHttpClientOptions['adapter'];
  logger?: PlatformHttpLogger;
  platformName?: string;
  onRequest?: PlatformHttpClientOptions['onRequest'];
  onResponse?: PlatformHttpClientOptions['onResponse'];
}

export interface PlatformHttpClientOptions {
  platform: string;
  baseURL: string;
  headers?: Record<string, string>;
  /** Requests in flight at once (default 5). */
  concurrency?: number;
  /** Request starts per minute, evenly spaced (default 300). */
  requestsPerMinute?: number;
  /**
   * Per attempt, wall clock from sending to the last byte of the body (default 15000). axios's
   * own timeout is only an idle timeout once headers arrive, which a dripping body beats.
   */
  timeoutMs?: number;
  /** Retries after the first attempt for idempotent calls (default 4). */
  retries?: number;
  /** First backoff step; doubles per retry, with jitter (default 300). */
  retryBaseDelayMs?: number;
  /** Ceiling of one backoff step and of a Retry-After pause (default 60000). */
  maxRetryDelayMs?: number;
  /** Extra trusted CA certificates (PEM), e.g. a local simulator's. */
  ca?: string | Buffer;
  /** Values never shown in an error or a log besides the headers' (a password sent in a body). */
  secrets?: string[];
  /** axios adapter override; tests with nock use 'http'. */
  adapter?: AxiosRequestConfig['adapter'];
  logger?: PlatformHttpLogger;
  onRequest?: (info: RequestInfo) => void;
  onResponse?: (info: ResponseInfo) => void;
}

export interface PlatformHttpCounters {
  requests: number;
  retries: number;
  rateLimited: number;
  timeouts: number;
  failures: number;
  maxInFlight: number;
}

export interface CallOptions {
  params?: Record<string, unknown>;
  data?: unknown;
  /** Statuses that resolve instead of throwing (e.g. 404 when absence is an answer). */
  acceptStatus?: number[];
  retryUnsafe?: boolean;
  /**
   * The endpoint family this call is counted under, as the adapter names it in its wire
   * module (GeoGrid: `postes`, `caixas`, `equipamentos`, `portas`, `clientes`…). Default: the
   * endpoint with its ids folded (`GET /diagrama/equipamentos/:id`).
   */
  family?: string;
  /** Breaks the call off when it aborts: the attempt in flight, and no further attempt. */
  signal?: AbortSignal;
  /** Counts the call's attempts, retries and 429 answers (a sync run's tally). */
  tally?: PlatformRequestTally;
}

/** What a client view adds to every call made through it (see PlatformHttpClient.withScope). */
export interface PlatformCallScope {
  signal?: AbortSignal;
  tally?: PlatformRequestTally;
}

export interface PlatformResponse<T = unknown> {
  status: number;
  data: T;
}

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

const isSuccess = (status: number): boolean => status >= 200 && status < 300;

/**
 * The HTTP client every platform adapter uses: a concurrency cap and an evenly spaced
 * per-minute budget that also hold across retries, Retry-After on 429 (pausing every
 * request), jittered backoff for idempotent calls only and only for errors that may pass
 * (never a certificate error or a 4xx other than 408/429), a wall-clock limit on each
 * attempt, and errors that name the platform and the endpoint and never carry a header.
 */
export class PlatformHttpClient {
  readonly platform: string;
  readonly limiter: RequestLimiter;
  private readonly axios: AxiosInstance;
  private readonly secrets: string[];
  private readonly counters = {
    requests: 0,
    retries: 0,
    rateLimited: 0,
    timeouts: 0,
    failures: 0,
  };
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly maxRetryDelayMs: number;
  private readonly timeoutMs: number;
  /**
   * The attempts in flight under each caller signal: one abort listener per signal (added at
   * its first call), not one per attempt.
   */
  private readonly inFlightBySignal = new WeakMap<AbortSignal, Set<AbortController>>();

  constructor(private readonly options: PlatformHttpClientOptions) {
    this.platform = options.platform;
    const concurrency = options.concurrency ?? 5;
    this.limiter = new RequestLimiter({ concurrency, requestsPerMinute: options.requestsPerMinute ?? 300 });
    this.secrets = [...Object.values(options.headers ?? {}), ...(options.secrets ?? [])].filter((v) => v.length >= 6);
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 60_000;
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    this.httpsAgent = new https.Agent({
      keepAlive: true,
      maxSockets: concurrency,
      ...(options.ca ? { ca: options.ca } : {}),
    });

    this.axios = axios.create({
      baseURL: options.baseURL.replace(/\/+$/, ''),
      headers: { Accept: 'application/json', ...(options.headers ?? {}) },
      timeout: this.timeoutMs,
      httpAgent: this.httpAgent,
      httpsAgent: this.httpsAgent,
      maxRedirects: 0,
      // Without proxy variables there is nothing to look up per request (axios would read
      // the environment on every call); with them, axios applies them as usual.
      ...(proxyConfigured() ? {} : { proxy: false as const }),
      paramsSerializer: { indexes: false },
      ...(options.adapter ? { adapter: options.adapter } : {}),
    });

    // Registered before axios-retry: request interceptors run last-registered first, so the
    // slot is taken just before sending; response interceptors run in order, so the slot is
    // released (and a 429 pauses the limiter) before axios-retry schedules a retry.
    this.axios.interceptors.request.use(async (config) => this.beforeAttempt(config));
    this.axios.interceptors.response.use(
      (response) => {
        this.afterAttempt(response.config, response.status, 'ok');
        return response;
      },
      (error: unknown) => {
        if (error instanceof AxiosError && error.config) this.afterFailedAttempt(error);
        return Promise.reject(error);
      },
    );

    const baseDelay = options.retryBaseDelayMs ?? 300;
    axiosRetry(this.axios, {
      retries: options.retries ?? 4,
      shouldResetTimeout: true,
      retryCondition: (error) => isRetryable(error),
      retryDelay: (retryCount, error) => {
        // A 429 already paused the limiter for Retry-After; the retry just queues behind it.
        if (error.response?.status === 429) return 0;
        const step = Math.min(this.maxRetryDelayMs, baseDelay * 2 ** (retryCount - 1));
        return Math.round(step * (0.5 + Math.random()));
      },
      onRetry: (retryCount, error, config) => {
        this.counters.retries += 1;
        // The spent attempt's abort signal would make axios-retry skip the backoff; the next
        // attempt gets a fresh one in beforeAttempt.
        delete config.signal;
        config.platformAttempt = retryCount + 1;
        options.logger?.warn(
          {
            platform: this.platform,
            endpoint: endpointOf(config),
            status: error.response?.status ?? null,
            code: error.code ?? null,
            retry: retryCount,
          },
          'platform call failed, retrying',
        );
      },
    });
  }

  get stats(): PlatformHttpCounters {
    return { ...this.counters, maxInFlight: this.limiter.maxActive };
  }

  /**
   * Sets a header on every later request, e.g. a token a login returned in place of the
   * configured one; its value is redacted from errors like the configured headers'.
   */
  setHeader(name: string, value: string): void {
    // Beside the headers given at construction, which win over `common` when axios merges them.
    (this.axios.defaults.headers as unknown as Record<string, unknown>)[name] = value;
    if (value.length >= 6 && !this.secrets.includes(value)) this.secrets.push(value);
  }

  get<T = unknown>(path: string, options: Omit<CallOptions, 'data'> = {}): Promise<PlatformResponse<T>> {
    return this.request<T>('GET', path, options);
  }

  post<T = unknown>(path: string, data: unknown, options: Omit<CallOptions, 'data'> = {}): Promise<PlatformResponse<T>> {
    return this.request<T>('POST', path, { ...options, data });
  }

  put<T = unknown>(path: string, data: unknown, options: Omit<CallOptions, 'data'> = {}): Promise<PlatformResponse<T>> {
    return this.request<T>('PUT', path, { ...options, data });
  }

  delete<T = unknown>(path: string, options: Omit<CallOptions, 'data'> = {}): Promise<PlatformResponse<T>> {
    return this.request<T>('DELETE', path, options);
  }

  async request<T = unknown>(method: string, path: string, options: CallOptions = {}): Promise<PlatformResponse<T>> {
    const accepted = options.acceptStatus;
    if (options.signal?.aborted) throw this.toPlatformError(new CanceledError('the calling run was stopped'), method, path);
    try {
      const response = await this.axios.request<T>({
        method,
        url: path,
        params: options.params,
        data: options.data,
        platformRetryUnsafe: options.retryUnsafe ?? false,
        ...(options.signal ? { platformSignal: options.signal } : {}),
        ...(options.tally ? { platformTally: options.tally } : {}),
        ...(options.family ? { platformFamily: options.family } : {}),
        validateStatus: accepted ? (status) => (status >= 200 && status < 300) || accepted.includes(status) : isSuccess,
      });
      return { status: response.status, data: response.data };
    } catch (error) {
      throw this.toPlatformError(error, method, path);
    }
  }

  /**
   * A view of this client (same limiter, budget, sockets and counters) that adds `scope` to
   * every call made through it: its abort signal and its tally. An adapter made for one run
   * uses one, so that the run's requests are counted apart from the pusher's, and broken off
   * when the run stops, without threading either through every adapter method.
   */
  withScope(scope: PlatformCallScope): PlatformHttpClient {
    const view = Object.create(this) as PlatformHttpClient;
    const request = (method: string, path: string, options: CallOptions = {}) =>
      this.request(method, path, {
        ...options,
        ...(scope.signal && !options.signal ? { signal: scope.signal } : {}),
        ...(scope.tally && !options.tally ? { tally: scope.tally } : {}),
      });
    Object.defineProperty(view, 'request', { value: request });
    return view;
  }

  async close(): Promise<void> {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private async beforeAttempt(config: InternalAxiosRequestConfig): Promise<InternalAxiosRequestConfig> {
    await this.limiter.acquire();
    config.platformHoldsSlot = true;
    config.platformStartedAt = performance.now();
    config.platformAttempt ??= 1;
    config.platformDeadlineHit = false;
    const caller = config.platformSignal;
    if (caller?.aborted) {
      this.limiter.release();
      config.platformHoldsSlot = false;
      throw new CanceledError('the calling run was stopped', config);
    }
    // One controller and one timer per attempt; the caller's signal reaches it through the
    // signal's one listener (see inFlightBySignal).
    const abort = new AbortController();
    config.signal = abort.signal;
    config.platformAbort = abort;
    config.platformDeadline = setTimeout(() => {
      config.platformDeadlineHit = true;
      abort.abort(new Error(`no answer before the timeout (${this.timeoutMs} ms, wall clock, body included)`));
    }, this.timeoutMs);
    config.platformDeadline.unref();
    if (caller) this.attemptsUnder(caller).add(abort);
    this.counters.requests += 1;
    const tally = config.platformTally;
    const hook = this.options.onRequest;
    if (tally || hook) {
      const family = (config.platformFamily ??= endpointFamily(endpointOf(config)));
      tally?.attempt(family, config.platformAttempt);
      hook?.({
        platform: this.platform,
        method: (config.method ?? 'get').toUpperCase(),
        endpoint: endpointOf(config),
        family,
        attempt: config.platformAttempt,
      });
    }
    return config;
  }

  private attemptsUnder(signal: AbortSignal): Set<AbortController> {
    let attempts = this.inFlightBySignal.get(signal);
    if (!attempts) {
      const set = new Set<AbortController>();
      attempts = set;
      this.inFlightBySignal.set(signal, set);
      signal.addEventListener(
        'abort',
        () => {
          for (const attempt of set) attempt.abort(signal.reason);
          set.clear();
        },
        { once: true },
      );
    }
    return attempts;
  }

  private afterAttempt(config: AxiosRequestConfig, status: number | null, outcome: ResponseInfo['outcome']): void {
    if (config.platformDeadline) clearTimeout(config.platformDeadline);
    if (config.platformAbort && config.platformSignal) this.inFlightBySignal.get(config.platformSignal)?.delete(config.platformAbort);
    config.platformAbort = undefined;
    if (!config.platformHoldsSlot) return;
    config.platformHoldsSlot = false;
    this.limiter.release();
    config.platformTally?.answered(status, outcome === 'timeout');
    const hook = this.options.onResponse;
    if (!hook) return;
    hook({
      platform: this.platform,
      method: (config.method ?? 'get').toUpperCase(),
      endpoint: endpointOf(config),
      family: config.platformFamily ?? endpointFamily(endpointOf(config)),
      attempt: config.platformAttempt ?? 1,
      status,
      durationMs: performance.now() - (config.platformStartedAt ?? performance.now()),
      outcome,
    });
  }

  private afterFailedAttempt(error: AxiosError): void {
    const config = error.config!;
    const status = error.response?.status ?? null;
    if (status === 429) {
      this.counters.rateLimited += 1;
      const pauseMs = Math.min(this.maxRetryDelayMs, retryAfterMs(error.response?.headers?.['retry-after']) ?? 1000);
      this.limiter.pauseFor(pauseMs);
    }
    if (isTimeout(error)) this.counters.timeouts += 1;
    const outcome: ResponseInfo['outcome'] = status !== null ? 'http_error' : isTimeout(error) ? 'timeout' : 'network_error';
    this.afterAttempt(config, status, outcome);
  }

  private toPlatformError(error: unknown, method: string, path: string): PlatformError {
    this.counters.failures += 1;
    const endpoint = `${method.toUpperCase()} ${stripQuery(path)}`;
    if (error instanceof AxiosError) {
      const status = error.response?.status ?? null;
      const body = error.response?.data;
      const fields = fieldErrorsOf(body);
      return new PlatformError({
        platform: this.platform,
        endpoint,
        status,
        platformMessage: this.redact(platformMessageOf(body) ?? (status === null ? networkMessage(error) : null)),
        retryable: isTransient(error),
        code: error.code ?? null,
        fieldErrors: fields ? Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, this.redact(v) ?? ''])) : null,
      });
    }
    const message = error instanceof Error ? error.message : String(error);
    return new PlatformError({
      platform: this.platform,
      endpoint,
      status: null,
      platformMessage: this.redact(message),
      retryable: false,
    });
  }

  private redact(text: string | null): string | null {
    if (text === null) return null;
    let out = text;
    for (const secret of this.secrets) out = out.split(secret).join('[redacted]');
    return out;
  }
}

const PROXY_VARIABLES = ['http_proxy', 'https_proxy', 'all_proxy'];

function proxyConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return PROXY_VARIABLES.some((name) => Boolean(env[name] || env[name.toUpperCase()]));
}

function isTimeout(error: AxiosError): boolean {
  return error.config?.platformDeadlineHit === true || error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT' || /timeout/i.test(error.message);
}

/**
 * TLS failures that no retry can cure: the certificate is expired, self-signed, for another
 * host, or from an unknown CA (Node's codes, from OpenSSL's X509_V_ERR_* names).
 */
const PERMANENT_TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(VERIFY|GET_ISSUER|DECRYPT)|HOSTNAME_MISMATCH|ERR_TLS_CERT_ALTNAME_INVALID|ERR_SSL_/;

/**
 * Whether the same call may pass later. Not: a certificate error, an error of the request
 * itself (bad URL, bad option), a 4xx but 408 and 429. A host that does not resolve
 * (ENOTFOUND, EAI_AGAIN) is retried: resolvers fail for a moment, and a few retries cost
 * seconds while a lost nightly run costs a day.
 */
export function isTransient(error: AxiosError): boolean {
  if (!error.response) {
    if (error.config?.platformDeadlineHit) return true;
    const code = error.code ?? '';
    if (code === 'ERR_CANCELED' || code === 'ERR_INVALID_URL' || code === 'ERR_BAD_OPTION' || code === 'ERR_BAD_OPTION_VALUE') return false;
    return !PERMANENT_TLS_CODES.test(code);
  }
  const status = error.response.status;
  return status === 429 || status === 408 || status >= 500;
}

function isRetryable(error: AxiosError): boolean {
  const config = error.config;
  if (!config) return false;
  const method = (config.method ?? 'get').toUpperCase();
  if (!IDEMPOTENT_METHODS.has(method) && !config.platformRetryUnsafe) return false;
  return isTransient(error);
}

function networkMessage(error: AxiosError): string {
  if (error.config?.platformDeadlineHit) return 'no answer before the timeout (wall clock per attempt, body included)';
  if (isTimeout(error)) return 'no answer before the timeout';
  if (PERMANENT_TLS_CODES.test(error.code ?? '')) return `TLS certificate error ${error.code}: ${error.message} (not retried: it will not pass by itself)`;
  return error.code ? `network error ${error.code}` : 'network error';
}

/** Retry-After as seconds or as an HTTP date, in milliseconds from now. */
export function retryAfterMs(header: unknown, now = Date.now()): number | null {
  if (typeof header !== 'string' && typeof header !== 'number') return null;
  const text = String(header).trim();
  if (text === '') return null;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}

/**
 * The endpoint with its ids folded, for a metric label of bounded cardinality:
 * `GET /postes/123/equipamentos` → `GET /postes/:id/equipamentos`. A segment counts as an
 * id when it holds a digit (platform ids, integration codes such as `MS-12`) or is a UUID.
 */
export function endpointFamily(endpoint: string): string {
  const [method, path = ''] = endpoint.includes(' ') ? endpoint.split(' ', 2) : ['', endpoint];
  const folded = path
    .split('/')
    .map((segment) => (/\d/.test(segment) ? ':id' : segment))
    .join('/');
  return method ? `${method} ${folded}` : folded;
}

function endpointOf(config: AxiosRequestConfig): string {
  return `${(config.method ?? 'get').toUpperCase()} ${stripQuery(config.url ?? '')}`;
}

function stripQuery(path: string): string {
  const noQuery = path.split('?')[0] ?? '';
  return noQuery.startsWith('/') || noQuery === '' ? noQuery : `/${noQuery}`;
}
