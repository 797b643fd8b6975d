import { renderTable } from './output';

describe('renderTable', () => {
  test('pads columns to their widest cell, right-aligns numbers, shows missing values as -', () => {
    const rows = [
      { name: 'orders', partitions: 3, leader: 1 },
      { name: 'a', partitions: 12, leader: null },
    ];
    const text = renderTable(rows, [
      { header: 'TOPIC', value: (r) => r.name },
      { header: 'PARTITIONS', value: (r) => r.partitions },
      { header: 'LEADER', value: (r) => r.leader },
    ]);
    expect(text.split('\n')).toEqual([
      'TOPIC   PARTITIONS  LEADER', //
      'orders           3       1',
      'a               12       -',
    ]);
  });

  test('an empty table is its header', () => {
    expect(renderTable([], [{ header: 'GROUP', value: () => 'x' }])).toBe('GROUP');
  });
});
