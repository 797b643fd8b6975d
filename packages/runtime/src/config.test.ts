import { z } from 'zod';
import { BrookError } from '@brook/types';
import { envName, flagName, loadConfig, opt } from './config';

const spec = {
  brokerId: { schema: opt.int(1, 0), describe: 'id' },
  port: { schema: opt.port(9000), env: 'BROOK_CONTROLLER_PORT', describe: 'port' },
  launch: { schema: opt.bool(true), describe: 'launch' },
  brokerPorts: { schema: opt.intList([9001, 9002]), describe: 'ports' },
  name: { schema: z.string().default('x'), describe: 'name' },
};

describe('loadConfig', () => {
  test('names: flags in kebab-case, env in BROOK_SCREAMING_SNAKE unless given', () => {
    expect(flagName('brokerId', spec.brokerId)).toBe('broker-id');
    expect(envName('brokerId', spec.brokerId)).toBe('BROOK_BROKER_ID');
    expect(envName('port', spec.port)).toBe('BROOK_CONTROLLER_PORT');
  });

  test('defaults, then env, then flags win', () => {
    expect(loadConfig(spec, [], {})).toEqual({ brokerId: 1, port: 9000, launch: true, brokerPorts: [9001, 9002], name: 'x' });
    expect(loadConfig(spec, [], { BROOK_BROKER_ID: '3', BROOK_CONTROLLER_PORT: '9100', BROOK_LAUNCH: 'false' })).toMatchObject({
      brokerId: 3,
      port: 9100,
      launch: false,
    });
    expect(loadConfig(spec, ['--broker-id', '4', '--no-launch', '--broker-ports=1,2,3'], { BROOK_BROKER_ID: '3' })).toMatchObject({
      brokerId: 4,
      launch: false,
      brokerPorts: [1, 2, 3],
    });
    expect(loadConfig(spec, ['--launch'], {}).launch).toBe(true);
  });

  test('bad values and unknown flags are refused with the option named', () => {
    expect(() => loadConfig(spec, ['--broker-id', 'x'], {})).toThrow(/--broker-id/);
    expect(() => loadConfig(spec, [], { BROOK_CONTROLLER_PORT: '70000' })).toThrow(/BROOK_CONTROLLER_PORT/);
    expect(() => loadConfig(spec, ['--broker-ports', '1,,2'], {})).toThrow(BrookError);
    expect(() => loadConfig(spec, ['--nope', '1'], {})).toThrow(/unknown option --nope/);
    expect(() => loadConfig(spec, ['stray'], {})).toThrow(/unexpected argument/);
  });
});
