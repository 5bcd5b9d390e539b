import { SharedLoads } from './shared-loads';

describe('SharedLoads', () => {
  it('loads once for every caller that asks while the value is fresh', async () => {
    const loads = new SharedLoads<string, number>(60_000, 10);
    let calls = 0;
    const load = async () => ++calls;
    const answers = await Promise.all([loads.get('a', load), loads.get('a', load), loads.get('a', load)]);
    expect(answers).toEqual([1, 1, 1]);
    expect(await loads.get('a', load)).toBe(1);
    expect(await loads.get('b', load)).toBe(2);
    expect(calls).toBe(2);
  });

  it('forgets a failed load, thrown or rejected, so the next caller loads again', async () => {
    const loads = new SharedLoads<string, string>(60_000, 10);
    await expect(loads.get('a', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    await expect(
      loads.get('a', () => {
        throw new Error('at once');
      }),
    ).rejects.toThrow('at once');
    expect(await loads.get('a', async () => 'up')).toBe('up');
  });

  it('hands a result it does not keep to those who waited, then loads again', async () => {
    const loads = new SharedLoads<string, string>(60_000, 10, (value) => value.length <= 3);
    let calls = 0;
    const load = async () => `${++calls}`.padEnd(5, 'x');
    expect(await Promise.all([loads.get('a', load), loads.get('a', load)])).toEqual(['1xxxx', '1xxxx']);
    expect(await loads.get('a', load)).toBe('2xxxx');
  });

  it('keeps nothing with a TTL of 0', async () => {
    const loads = new SharedLoads<string, number>(0, 10);
    let calls = 0;
    await loads.get('a', async () => ++calls);
    await loads.get('a', async () => ++calls);
    expect(calls).toBe(2);
  });

  it('loads again after delete, even while the deleted load is in flight', async () => {
    const loads = new SharedLoads<string, number>(60_000, 10);
    let calls = 0;
    const load = async () => ++calls;
    const first = loads.get('a', load);
    loads.delete('a');
    expect(await loads.get('a', load)).toBe(2);
    expect(await first).toBe(1);
    expect(await loads.get('a', load)).toBe(2);
  });
});
