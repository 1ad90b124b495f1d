import { Injectable } from '@nestjs/common';

/**
 * Set when SIGTERM arrives, so readiness can turn 503 first and the load
 * balancer stops sending traffic before the server stops listening.
 */
@Injectable()
export class ShutdownState {
  private draining = false;

  get isDraining(): boolean {
    return this.draining;
  }

  beginDraining(): void {
    this.draining = true;
  }
}
