/** Param validation and coercion against a node's param schemas. */
import type { ParamSchema } from '../protocol/index.ts';

export interface ParamProblem {
  param: string;
  code: 'param-out-of-range' | 'param-wrong-type' | 'param-unknown' | 'param-invalid';
  message: string;
}

const describe = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : String(v));

/** Checks one value against its schema; returns a message, or undefined when valid. */
export function checkParam(key: string, schema: ParamSchema, value: unknown): ParamProblem | undefined {
  const wrong = (expected: string): ParamProblem => ({
    param: key,
    code: 'param-wrong-type',
    message: `param "${key}" must be ${expected}, got ${Array.isArray(value) ? 'an array' : typeof value} ${describe(value)}`,
  });
  switch (schema.kind) {
    case 'number':
    case 'integer':
    case 'seed': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return wrong('a finite number');
      if ((schema.kind === 'integer' || schema.kind === 'seed') && !Number.isInteger(value)) return wrong('an integer');
      const min = schema.kind === 'seed' ? 0 : schema.min;
      const max = schema.kind === 'seed' ? 2 ** 31 - 1 : schema.max;
      if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
        const range = `${min ?? '-∞'}..${max ?? '∞'}`;
        return { param: key, code: 'param-out-of-range', message: `param "${key}" is ${value}, outside ${range}` };
      }
      return undefined;
    }
    case 'boolean':
      return typeof value === 'boolean' ? undefined : wrong('true or false');
    case 'enum':
      if (typeof value !== 'string') return wrong(`one of ${schema.options.join(', ')}`);
      if (!schema.options.includes(value))
        return {
          param: key,
          code: 'param-out-of-range',
          message: `param "${key}" is ${describe(value)}, expected one of ${schema.options.join(', ')}`,
        };
      return undefined;
    case 'string':
    case 'path':
    case 'code':
      if (typeof value !== 'string') return wrong('a string');
      if ((schema.kind === 'string' || schema.kind === 'path') && schema.required && value.trim() === '')
        return { param: key, code: 'param-invalid', message: `param "${key}" must not be empty` };
      return undefined;
    default: {
      const never: never = schema;
      throw new Error(`unhandled param kind ${(never as ParamSchema).kind}`);
    }
  }
}

/**
 * Fills defaults and validates every param. Unknown keys are reported (not dropped silently)
 * so typos in hand-edited files surface.
 */
export function resolveParams(
  schemas: Record<string, ParamSchema>,
  given: Record<string, unknown>,
): { values: Record<string, unknown>; problems: ParamProblem[] } {
  const values: Record<string, unknown> = {};
  const problems: ParamProblem[] = [];
  for (const [key, schema] of Object.entries(schemas)) {
    const value = key in given ? given[key] : schema.default;
    const problem = checkParam(key, schema, value);
    if (problem) problems.push(problem);
    values[key] = value;
  }
  for (const key of Object.keys(given)) {
    if (!(key in schemas))
      problems.push({ param: key, code: 'param-unknown', message: `unknown param "${key}"` });
  }
  return { values, problems };
}

/**
 * Parses a command-line value (`--set node.param=value`) into the param's type.
 * Throws a message naming the param when it cannot.
 */
export function parseParamText(key: string, schema: ParamSchema, text: string): unknown {
  switch (schema.kind) {
    case 'number':
    case 'integer':
    case 'seed': {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n)) throw new Error(`param "${key}" expects a number, got "${text}"`);
      return n;
    }
    case 'boolean':
      if (['true', '1', 'yes', 'on'].includes(text)) return true;
      if (['false', '0', 'no', 'off'].includes(text)) return false;
      throw new Error(`param "${key}" expects true or false, got "${text}"`);
    case 'enum':
    case 'string':
    case 'path':
    case 'code':
      return text;
    default: {
      const never: never = schema;
      throw new Error(`unhandled param kind ${(never as ParamSchema).kind}`);
    }
  }
}
