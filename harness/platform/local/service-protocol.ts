/** Messages between the harness and the Service process. */
export type ServiceCommand =
  | { op: 'add'; seq: number; name: string; port: number }
  | { op: 'remove'; seq: number; name: string };

export type ServiceMessage = { event: 'listening'; port: number } | { event: 'ack'; seq: number; endpoints: number };
