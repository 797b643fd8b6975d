import { BrookError } from '@brook/types';
import { brookProgram, errorLine } from './program';

describe('brook program', () => {
  test('errors are one line: the Brook error code and message, or the message', () => {
    expect(errorLine(new BrookError('UNKNOWN_TOPIC', 'topic nope does not exist'))).toBe('brook: UNKNOWN_TOPIC: topic nope does not exist');
    expect(errorLine(new Error('line 2 has no key separator ":"'))).toBe('brook: line 2 has no key separator ":"');
  });

  test('every command group is there, and usage errors use the same brook: prefix', () => {
    const program = brookProgram();
    expect(program.commands.map((c) => c.name())).toEqual(['cluster', 'topics', 'produce', 'consume', 'groups', 'bench']);
    const topics = program.commands.find((c) => c.name() === 'topics')!;
    let written = '';
    topics.exitOverride().configureOutput({ writeErr: (s) => (written += s) });
    expect(() => program.parse(['node', 'brook', 'topics', '--nope'])).toThrow();
    expect(written).toBe("brook: unknown option '--nope'\n");
  });
});
