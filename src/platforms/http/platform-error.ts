/**
 * A failed call to a mapping platform. It names the platform, the endpoint (method and
 * path only: no host, no query, never a header) and the platform's own message, and it
 * carries nothing from the request configuration, so serialising it cannot leak a token.
 */
export interface PlatformErrorInit {
  platform: string;
  endpoint: string;
  status: number | null;
  platformMessage: string | null;
  retryable: boolean;
  code?: string | null;
  /** The platform's error body when it is a field → message map. */
  fieldErrors?: Record<string, string> | null;
}

export class PlatformError extends Error {
  readonly platform: string;
  readonly endpoint: string;
  readonly status: number | null;
  readonly platformMessage: string | null;
  readonly retryable: boolean;
  readonly code: string | null;
  readonly fieldErrors: Record<string, string> | null;

  constructor(init: PlatformErrorInit) {
    super(PlatformError.describe(init));
    this.name = 'PlatformError';
    this.platform = init.platform;
    this.endpoint = init.endpoint;
    this.status = init.status;
    this.platformMessage = init.platformMessage;
    this.retryable = init.retryable;
    this.code = init.code ?? null;
    this.fieldErrors = init.fieldErrors ?? null;
  }

  /** True when the platform refused the call for good (4xx other than 408/429). */
  get permanent(): boolean {
    return this.status !== null && this.status >= 400 && this.status < 500 && this.status !== 408 && this.status !== 429;
  }

  hasField(field: string): boolean {
    return this.fieldErrors !== null && Object.hasOwn(this.fieldErrors, field);
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      platform: this.platform,
      endpoint: this.endpoint,
      status: this.status,
      platformMessage: this.platformMessage,
      retryable: this.retryable,
      code: this.code,
      fieldErrors: this.fieldErrors,
    };
  }

  private static describe(init: PlatformErrorInit): string {
    const outcome = init.status !== null ? `HTTP ${init.status}` : (init.code ?? 'no response');
    const detail = init.platformMessage ? `: ${init.platformMessage}` : '';
    return `${init.platform} ${init.endpoint} failed (${outcome})${detail}`;
  }
}

const MESSAGE_KEYS = ['mensagem', 'message', 'erro', 'error', 'msg'];
const MAX_MESSAGE_LENGTH = 500;

/** Field → message pairs of a platform error body such as `{"tipo":"Tipo de cliente é obrigatório"}`. */
export function fieldErrorsOf(body: unknown): Record<string, string> | null {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return null;
  const source = unwrapErrorContainer(body as Record<string, unknown>);
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(source)) {
    if (typeof value === 'string') fields[key] = value;
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) fields[key] = value.join(', ');
  }
  return Object.keys(fields).length > 0 ? fields : null;
}

/** A one-line reading of a platform error body, whatever its shape. */
export function platformMessageOf(body: unknown): string | null {
  if (body === undefined || body === null || body === '') return null;
  if (typeof body === 'string') return truncate(body.replace(/\s+/g, ' ').trim());
  const fields = fieldErrorsOf(body);
  if (fields) {
    const generic = MESSAGE_KEYS.find((k) => fields[k] !== undefined && Object.keys(fields).length === 1);
    if (generic) return truncate(fields[generic]!);
    return truncate(
      Object.entries(fields)
        .map(([k, v]) => `${k}: ${v}`)
        .join('; '),
    );
  }
  try {
    return truncate(JSON.stringify(body));
  } catch {
    return null;
  }
}

function unwrapErrorContainer(body: Record<string, unknown>): Record<string, unknown> {
  for (const key of ['erros', 'errors', 'dados']) {
    const inner = body[key];
    if (inner && typeof inner === 'object' && !Array.isArray(inner)) return inner as Record<string, unknown>;
  }
  return body;
}

function truncate(text: string): string {
  return text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH)}…` : text;
}
