/** The handset fleet's public face (bin/ and the tests use it). */
export { Fleet, type FleetOptions, type FleetStats } from './fleet.js';
export { VendorIndex, VendorFileError } from './vendor-index.js';
export { CardStore } from './card-store.js';
