import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { PexipModule } from '../pexip/pexip.module';
import { PoolModule } from '../pool/pool.module';
import { PublicRoomController } from './public-room.controller';
import { RoomController } from './room.controller';
import { RoomService } from './room.service';

@Module({
  imports: [AuthModule, PexipModule, PoolModule],
  controllers: [RoomController, PublicRoomController],
  providers: [RoomService],
  exports: [RoomService],
})
export class RoomModule {}
