import { createConfig, lintFromString } from '@redocly/openapi-core';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { createTestApp, TestApp } from './support/app';

const CLI = join(__dirname, '..', 'node_modules', 'openapi-typescript', 'bin', 'cli.js');

/**
 * A client as a new user would write one: types generated from /docs-json
 * with openapi-typescript, calls through openapi-fetch. It must type-check.
 */
const CLIENT = `
import createClient from 'openapi-fetch';
import type { components, paths } from './schema';

const client = createClient<paths>({ baseUrl: 'http://127.0.0.1:3000', headers: { Authorization: 'Bearer lp_x' } });

export async function sendWelcome(): Promise<string[]> {
  const { data, error, response } = await client.POST('/v1/emails', {
    body: { from: 'hello@mail.example.com', to: ['ada@example.com'], subject: 'Welcome', text: 'Hi Ada' },
    params: { header: { 'Idempotency-Key': 'welcome-ada' } },
  });
  if (error) {
    if (response.status === 422 && error.error === 'validation_failed') {
      const fields: { field: string; message: string }[] = error.errors ?? [];
      throw new Error(fields.map((f) => f.field + ': ' + f.message).join('; '));
    }
    if (response.status === 403 && error.feature) throw new Error('needs ' + error.feature);
    throw new Error(error.error + ': ' + error.message);
  }
  return data.data.messages.map((m) => m.uuid + ' ' + m.status);
}

export async function listMessages(cursor?: string): Promise<{ uuids: string[]; next: string | null }> {
  const { data, error } = await client.GET('/v1/messages', { params: { query: { limit: 20, cursor } } });
  if (error) throw new Error(error.message);
  return { uuids: data.data.map((m) => m.uuid), next: data.next_cursor };
}

export const shape: components['schemas']['ErrorResponse'] = { error: 'not_found', message: 'Resource not found' };
`;

/** Reads a field the error schema does not have: a check that passes this is not checking anything. */
const BROKEN_CLIENT = `
import createClient from 'openapi-fetch';
import type { paths } from './schema';

export async function broken(): Promise<string> {
  const { error } = await createClient<paths>().GET('/v1/messages/{uuid}', { params: { path: { uuid: 'x' } } });
  return error ? error.errors![0].no_such_field : '';
}
`;

describe('the OpenAPI document', () => {
  let t: TestApp;
  let document: Record<string, any>;
  beforeAll(async () => {
    t = await createTestApp();
    document = (await t.http.get('/docs-json').expect(200)).body;
  });
  afterAll(() => t.close());

  // The two warnings left: the package has no license to name, and a health probe has no client error.
  it('passes the lint of Redocly recommended rules: no error, and only the two known warnings', async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({
      source: JSON.stringify(document),
      absoluteRef: 'docs-json.json',
      config,
    });
    expect(problems.map((p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer}`)).toEqual([
      'warn info-license #/info',
      'warn operation-4xx-response #/paths/~1health/get/responses',
    ]);
  });

  it('documents for every operation its error answers with the one ErrorResponse schema', () => {
    expect(document.servers).toEqual([{ url: '/', description: 'This Leadpush instance' }]);
    for (const [path, item] of Object.entries<Record<string, any>>(document.paths)) {
      for (const [method, operation] of Object.entries<any>(item)) {
        expect([path, method, typeof operation.summary, operation.tags?.length]).toEqual([
          path,
          method,
          'string',
          1,
        ]);
        const errors = Object.entries<any>(operation.responses).filter(([status]) => Number(status) >= 400);
        expect([path, method, errors.length > 0]).toEqual([path, method, true]);
        for (const [status, response] of errors) {
          const content = response.content['application/json'];
          expect(content.schema).toEqual({ $ref: '#/components/schemas/ErrorResponse' });
          for (const example of Object.values<any>(content.examples)) {
            expect([path, method, status, String(example.value.error).length > 0]).toEqual([
              path,
              method,
              status,
              true,
            ]);
          }
        }
      }
    }
    const codes = (path: string, method: string, status: number) =>
      Object.keys(document.paths[path][method].responses[status].content['application/json'].examples);
    expect(codes('/v1/emails', 'post', 422)).toEqual(['validation_failed', 'sender_not_verified']);
    expect(codes('/v1/emails', 'post', 403)).toEqual(['upgrade_needed', 'email_verification_required']);
    expect(codes('/v1/emails', 'post', 409)).toEqual([
      'idempotency_key_reused',
      'idempotency_request_in_progress',
    ]);
    expect(codes('/v1/messages/{uuid}/cancel', 'post', 409)).toEqual(['not_scheduled']);
    expect(codes('/v1/messages/{uuid}', 'get', 404)).toEqual(['not_found']);
    expect(codes('/v1/messages', 'get', 401)).toEqual(['unauthorized']);
    expect(codes('/v1/domains', 'post', 409)).toEqual(['conflict']);
    expect(document.paths['/v1/messages'].get.responses['422']).toBeDefined();
    expect(document.paths['/v1/messages'].get.responses['429'].headers['Retry-After']).toBeDefined();
    expect(document.paths['/health'].get.security).toEqual([]);
    const schema = document.components.schemas.ErrorResponse;
    expect(schema.required).toEqual(['error', 'message']);
    expect(schema.properties.errors.items).toEqual({ $ref: '#/components/schemas/FieldError' });
    expect(schema.properties.feature.type).toBe('string');
  });

  describe('a client generated from it with openapi-typescript and openapi-fetch', () => {
    let dir: string;
    beforeAll(() => {
      // Inside node_modules, so the client resolves openapi-fetch as an installed package would.
      mkdirSync(join(__dirname, '..', 'node_modules', '.cache'), { recursive: true });
      dir = mkdtempSync(join(__dirname, '..', 'node_modules', '.cache', 'openapi-client-'));
      writeFileSync(join(dir, 'docs.json'), JSON.stringify(document));
      // The CLI, as a user runs it: `npx openapi-typescript docs.json -o schema.ts`.
      execFileSync(process.execPath, [CLI, join(dir, 'docs.json'), '-o', join(dir, 'schema.ts')], {
        stdio: 'pipe',
      });
      writeFileSync(join(dir, 'client.ts'), CLIENT);
      writeFileSync(join(dir, 'broken.ts'), BROKEN_CLIENT);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    const typeErrors = (file: string): string[] => {
      const program = ts.createProgram([join(dir, file)], {
        strict: true,
        noEmit: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        moduleResolution: ts.ModuleResolutionKind.Bundler,
        lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
        types: [],
        skipLibCheck: true,
      });
      return ts
        .getPreEmitDiagnostics(program)
        .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    };

    it('type-checks: sends an email, reads a 422 errors[] and a 403 feature, lists messages', () => {
      expect(typeErrors('client.ts')).toEqual([]);
    });

    it('fails to type-check a client reading a field the error answer does not have', () => {
      expect(typeErrors('broken.ts')).toEqual([
        expect.stringContaining("Property 'no_such_field' does not exist"),
      ]);
    });
  });
});
