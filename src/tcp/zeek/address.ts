/** Zeek logs addresses as inet_ntop writes them: the same text as our flows. */
export { formatAddress, formatIPv4, formatIPv6 } from '../../util/address.js';
