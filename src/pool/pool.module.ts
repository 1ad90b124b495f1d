import { Module } from '@nestjs/common';
import { PexipModule } from '../pexip/pexip.module';
import { PoolService } from './pool.service';
import { RoomFactory } from './room-factory.service';

@Module({
  imports: [PexipModule],
  providers: [PoolService, RoomFactory],
  exports: [PoolService, RoomFactory],
})
export class PoolModule {}
