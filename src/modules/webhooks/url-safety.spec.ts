import { checkTarget, RefusedUrlError, refusedKind } from './url-safety';

describe('refusedKind', () => {
  it.each([
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'CGNAT'],
    ['100.127.255.254', 'CGNAT'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['febf::1', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
  ])('refuses %s as %s', (ip, kind) => {
    expect(refusedKind(ip)).toBe(kind);
  });

  it('refuses IPv4-mapped and IPv4-compatible IPv6 addresses, public ones too', () => {
    expect(refusedKind('::ffff:127.0.0.1')).not.toBeNull();
    expect(refusedKind('::ffff:7f00:1')).not.toBeNull();
    expect(refusedKind('::ffff:8.8.8.8')).toBe('IPv4-mapped or IPv4-compatible');
    expect(refusedKind('::8.8.8.8')).toBe('IPv4-mapped or IPv4-compatible');
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '172.15.255.255',
    '172.32.0.1',
    '100.63.255.255',
    '100.128.0.1',
    '2606:4700::1111',
  ])('lets %s through', (ip) => {
    expect(refusedKind(ip)).toBeNull();
  });
});

describe('checkTarget', () => {
  const options = { allowPrivate: false, timeoutMs: 1000 };
  const resolvesTo =
    (...addresses: string[]) =>
    async () =>
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

  it.each([
    'http://2130706433/',
    'http://0x7f.1/',
    'http://127.1/',
    'http://017700000001/',
    'http://0x7f000001/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://[::1]:8080/',
    'http://0/',
  ])('refuses the numeric form %s', async (url) => {
    await expect(checkTarget(url, options)).rejects.toThrow(RefusedUrlError);
  });

  it('refuses a host when any of its addresses is refused, and answers the checked address otherwise', async () => {
    await expect(
      checkTarget('https://hooks.example.test/x', { ...options, lookup: resolvesTo('8.8.8.8', '10.0.0.1') }),
    ).rejects.toThrow('10.0.0.1, a private address');
    const target = await checkTarget('https://hooks.example.test:8443/x?y=1', {
      ...options,
      lookup: resolvesTo('2606:4700::1111', '8.8.8.8'),
    });
    expect(target).toMatchObject({ hostname: 'hooks.example.test', address: '2606:4700::1111', family: 6 });
    expect(target.url.port).toBe('8443');
  });

  it('lets private addresses through with allowPrivate', async () => {
    const target = await checkTarget('http://127.1:9/', { ...options, allowPrivate: true });
    expect(target).toMatchObject({ address: '127.0.0.1', family: 4 });
  });

  it('refuses other schemes, a host that does not resolve, and a lookup that hangs', async () => {
    await expect(checkTarget('ftp://8.8.8.8/', options)).rejects.toThrow('http:// or https://');
    await expect(checkTarget('not a url', options)).rejects.toThrow(RefusedUrlError);
    const notFound = async () => {
      throw Object.assign(new Error('nope'), { code: 'ENOTFOUND' });
    };
    await expect(checkTarget('http://nowhere.test/', { ...options, lookup: notFound })).rejects.toThrow(
      'could not be resolved (ENOTFOUND)',
    );
    const hangs = () => new Promise<never>(() => undefined);
    await expect(
      checkTarget('http://slow.test/', { ...options, timeoutMs: 50, lookup: hangs }),
    ).rejects.toThrow('did not resolve within 50 ms');
  });
});
