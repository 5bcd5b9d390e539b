import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');

/** The Docker image and `npm run start:prod` start the app with the same node flags (README, Memory). */
describe('the production command', () => {
  const startProd = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts[
    'start:prod'
  ] as string;
  const cmd = readFileSync(join(root, 'Dockerfile'), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('CMD '))
    .pop() as string;

  it('is the same in the image as in start:prod, memory flags included', () => {
    const image = JSON.parse(cmd.slice('CMD '.length)) as string[];
    expect(image).toEqual(startProd.split(' '));
    expect(image).toEqual(expect.arrayContaining(['--max-semi-space-size=8', '--heap-growing-percent=75']));
  });
});
