import gognn from './index.js';

export const { open, Client, Index, Model } = gognn;
export default gognn;
