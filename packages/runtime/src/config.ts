import { z } from 'zod';
import { BrookError } from '@brook/types';

/**
 * One way to configure every Brook service: each option has a command-line flag (`--broker-id 2`), an
 * environment variable (`BROOK_BROKER_ID=2`) and a default, in that order of precedence.
 */
export interface OptionSpec<S extends z.ZodType = z.ZodType> {
  schema: S;
  describe: string;
  /** Defaults to BROOK_ + the key in SCREAMING_SNAKE_CASE. */
  env?: string;
  /** Defaults to the key in kebab-case. */
  flag?: string;
}

export type ConfigSpec = Record<string, OptionSpec>;
export type ConfigOf<T extends ConfigSpec> = { [K in keyof T]: z.output<T[K]['schema']> };

export function envName(key: string, spec: OptionSpec): string {
  return spec.env ?? `BROOK_${key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`;
}

export function flagName(key: string, spec: OptionSpec): string {
  return spec.flag ?? key.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

export function loadConfig<T extends ConfigSpec>(
  spec: T,
  argv: readonly string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
): ConfigOf<T> {
  const flags = parseFlags(argv);
  const known = new Set(Object.entries(spec).map(([k, s]) => flagName(k, s)));
  for (const f of flags.keys()) {
    if (!known.has(f)) throw new BrookError('INVALID_REQUEST', `unknown option --${f} (known: ${[...known].map((k) => `--${k}`).join(', ')})`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, option] of Object.entries(spec)) {
    const raw = flags.get(flagName(key, option)) ?? emptyToUndefined(env[envName(key, option)]);
    const parsed = option.schema.safeParse(raw);
    if (!parsed.success) {
      const source = flags.has(flagName(key, option)) ? `--${flagName(key, option)}` : envName(key, option);
      throw new BrookError('INVALID_REQUEST', `${source}=${JSON.stringify(raw)}: ${parsed.error.issues[0]?.message}`);
    }
    out[key] = parsed.data;
  }
  return out as ConfigOf<T>;
}

export function describeConfig(spec: ConfigSpec): string {
  return Object.entries(spec)
    .map(([k, s]) => `  --${flagName(k, s)}  (${envName(k, s)})  ${s.describe}`)
    .join('\n');
}

function parseFlags(argv: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new BrookError('INVALID_REQUEST', `unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf('=');
    if (eq > 0) flags.set(arg.slice(2, eq), arg.slice(eq + 1));
    else if (arg.startsWith('--no-')) flags.set(arg.slice(5), 'false');
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) flags.set(arg.slice(2), argv[++i]!);
    else flags.set(arg.slice(2), 'true');
  }
  return flags;
}

function emptyToUndefined(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

/** Option schemas for values that arrive as strings from flags and the environment. */
export const opt = {
  int: (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(def),
  port: (def: number) => z.coerce.number().int().min(0).max(65535).default(def),
  string: (def: string) => z.string().min(1).default(def),
  optionalString: () => z.string().min(1).optional(),
  bool: (def: boolean) =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'])
      .transform((v) => v === 'true' || v === '1' || v === 'yes')
      .default(def),
  intList: (def: number[]) =>
    z
      .string()
      .regex(/^\d+(,\d+)*$/, { error: 'must be a comma-separated list of numbers' })
      .transform((s) => s.split(',').map(Number))
      .default(def),
  level: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};
