import { describe, expect, it } from 'vitest';
import { findBinary } from './binaries.js';
import { INSTALL_HINT, isMissingServerBinaryError } from './errors.js';

describe('findBinary', () => {
  it('finds an executable on PATH', () => {
    expect(findBinary('redis-server', 'BULWARK_TEST_UNSET_VAR')).toMatch(/redis-server$/);
  });

  it('fails with the install command when the binary is missing, never silently', () => {
    let caught: unknown;
    try {
      findBinary('bulwark-no-such-server', 'BULWARK_TEST_UNSET_VAR');
    } catch (error) {
      caught = error;
    }
    expect(isMissingServerBinaryError(caught)).toBe(true);
    expect((caught as Error).message).toContain(INSTALL_HINT);
    expect((caught as { code: string }).code).toBe('ERR_MISSING_SERVER_BINARY');
  });

  it('honours an override variable and rejects a bad one', () => {
    process.env['BULWARK_TEST_BIN'] = '/nonexistent/redis-server';
    try {
      expect(() => findBinary('redis-server', 'BULWARK_TEST_BIN')).toThrow(/nonexistent/);
    } finally {
      delete process.env['BULWARK_TEST_BIN'];
    }
  });
});
