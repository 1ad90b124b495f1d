import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { PexipModule } from '../pexip/pexip.module';
import { RoomModule } from '../room/room.module';
import { CollectorService } from './collector.service';
import { EventSinkController } from './event-sink.controller';
import { EventSinkService } from './event-sink.service';

@Module({
  imports: [AuthModule, PexipModule, RoomModule],
  controllers: [EventSinkController],
  providers: [EventSinkService, CollectorService],
  exports: [CollectorService],
})
export class CleanupModule {}
