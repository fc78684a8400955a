// node experiments/web/static/check.js [rounds]: the demo's rounds in Node, printing precision.
const gognn = require('../../../js/index.js');
const { corpus, Demo } = require('./demo.js');
(async () => {
  const g = await gognn.open({ backend: process.env.BACKEND || 'auto' });
  const d = new Demo(g, corpus());
  await d.init();
  const rounds = Number(process.argv[2] || 200);
  for (let i = 0; i < rounds; i++) await d.simulate();
  console.log(JSON.stringify(d.history));
  await g.close();
})();
