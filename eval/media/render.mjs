// How the pictures of eval/media's drawn clips were rendered (not run by the tests or CI):
//   npm install @dicebear/core@9 @dicebear/collection@9 facesjs@5 @resvg/resvg-js @twemoji/svg openmoji
//   node render.mjs OUT   ->  OUT/<style>/<n>.png, 400 px wide, transparent background
// facesjs draws random faces (it takes no seed): its pictures differ at every run.
import { createAvatar } from '@dicebear/core';
import * as styles from '@dicebear/collection';
import { generate, faceToSvgString } from 'facesjs';
import { Resvg } from '@resvg/resvg-js';
import fs from 'fs';

const out = process.argv[2] || 'pictures';
const png = (svg) => new Resvg(svg, { fitTo: { mode: 'width', value: 400 } }).render().asPng();
const save = (dir, name, svg) => {
  fs.mkdirSync(`${out}/${dir}`, { recursive: true });
  fs.writeFileSync(`${out}/${dir}/${name}.png`, png(svg));
};
const dicebear = {
  adventurer: styles.adventurer, avataaars: styles.avataaars, 'big-ears': styles.bigEars,
  'big-smile': styles.bigSmile, croodles: styles.croodles, dylan: styles.dylan, lorelei: styles.lorelei,
  micah: styles.micah, miniavs: styles.miniavs, notionists: styles.notionists, 'open-peeps': styles.openPeeps,
  personas: styles.personas, 'pixel-art': styles.pixelArt, 'toon-head': styles.toonHead,
};
for (const [name, style] of Object.entries(dicebear)) {
  for (let i = 0; i < 8; i++) save(name, i, createAvatar(style, { seed: `s${i}`, backgroundColor: ['ffffff00'] }).toString());
}
for (let i = 0; i < 8; i++) save('facesjs', i, faceToSvgString(generate()));

const people = ['1f466', '1f467', '1f468', '1f469', '1f474', '1f475', '1f471', '1f9d1', '1f9d4', '1f478', '1f46e',
  '1f477', '1f482', '1f473', '1f472', '1f470', '1f935', '1f385', '1f9d3', '1f9d2', '1f476'];
const tones = ['', '-1f3fb', '-1f3fc', '-1f3fd', '-1f3fe', '-1f3ff'];
const smileys = ['1f600', '1f603', '1f604', '1f601', '1f606', '1f60a', '1f642', '1f610', '1f611', '1f636', '1f60f',
  '1f612', '1f644', '1f62c', '1f60c', '1f614', '1f62a', '1f634', '1f637', '1f913', '1f60e', '1f615', '1f61f', '1f641',
  '1f62e', '1f632', '1f633', '1f626', '1f627', '1f628'];
const codes = [...people.map((p, i) => p + tones[i % tones.length]), ...smileys];
for (const [set, dir, upper] of [['twemoji', 'node_modules/@twemoji/svg', false],
  ['openmoji', 'node_modules/openmoji/color/svg', true]]) {
  for (const code of codes) {
    const file = `${dir}/${upper ? code.toUpperCase() : code}.svg`;
    if (fs.existsSync(file)) save(set, code, fs.readFileSync(file, 'utf8'));
  }
}
