export { Transport, type TransportOptions, type SendOutcome } from './transport.ts';
export { Sender, type Delivery, type SenderOptions } from './sender.ts';
export { splitUrl, requestBytes, type RequestTarget } from './target.ts';
