import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { PexipError } from '../pexip/pexip.errors';
import { PexipService } from '../pexip/pexip.service';
import { conferenceUri } from '../pexip/pexip.types';
import { newPins, newRoomName } from './room-recipe';

export type RoomPurpose = 'pool' | 'on_demand';

export interface NewRoom {
  readonly id: number;
  readonly name: string;
}

/**
 * Creates rooms on Pexip with the one recipe both the pool and the
 * on-demand fallback use: random name and alias, random host and guest
 * PINs, guests allowed, and the optional automatic participant that rings
 * the contact centre.
 */
@Injectable()
export class RoomFactory {
  private readonly logger = new Logger(RoomFactory.name);

  constructor(
    private readonly config: AppConfig,
    private readonly pexip: PexipService,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * Creates one room.
   *
   * @param tag tag to set at once (on-demand rooms) or '' (pool rooms).
   * @param name the room's name; a fresh random one unless the caller needs
   *   to know it even when the create fails.
   * @throws PexipError when Pexip refuses or fails (`outcomeUnknown` when
   *   the room may exist nonetheless); a half-made room (the automatic
   *   participant failed) is deleted again before the throw.
   */
  async create(
    tag: string,
    purpose: RoomPurpose,
    name: string = newRoomName(),
  ): Promise<NewRoom> {
    const { pin, guestPin } = newPins(
      this.config.pool.hostPinLength,
      this.config.pool.guestPinLength,
    );

    const { id } = await this.pexip.createConference({
      name,
      service_type: 'conference',
      allow_guests: true,
      pin,
      guest_pin: guestPin,
      tag,
      description: '',
      aliases: [{ alias: name }],
    });

    if (this.config.pool.autoDialSipUri) {
      await this.addAutoDial(id, name, this.config.pool.autoDialSipUri);
    }

    this.metrics.roomsCreated.inc({ purpose });
    this.logger.debug({ room: name, id, purpose }, 'room created on Pexip');
    return { id, name };
  }

  /**
   * The contact centre finds the room by the caller's display name, so the
   * participant carries the room name. It joins as a host so that the
   * citizen is let in without waiting, and with audio only: Genesys carries
   * the agent's voice while video reaches the agent through the widget.
   * It does not keep the room alive, so the room ends (and is collected)
   * once the citizen leaves.
   */
  private async addAutoDial(
    id: number,
    name: string,
    sipUri: string,
  ): Promise<void> {
    try {
      await this.pexip.createAutomaticParticipant({
        alias: sipUri,
        conference: [conferenceUri(id)],
        protocol: 'sip',
        role: 'chair',
        call_type: 'audio',
        routing: 'routing_rule',
        remote_display_name: name,
        keep_conference_alive: 'keep_conference_alive_never',
        description: 'Contact centre queue',
      });
    } catch (error) {
      this.logger.error(
        { err: error, room: name, id },
        'automatic participant not created; deleting the half-made room',
      );
      await this.pexip
        .deleteConference(id)
        .catch((cleanupError) =>
          this.logger.error(
            { err: cleanupError, room: name, id },
            'half-made room could not be deleted; remove it by hand',
          ),
        );
      // Whatever became of the participant, the room itself is settled:
      // deleted, or reported for removal by hand. It must not be used.
      throw new PexipError(
        `room ${name} was made without its automatic participant`,
        {
          cause: error,
        },
      );
    }
  }
}
