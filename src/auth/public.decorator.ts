import { SetMetadata } from '@nestjs/common';

/** Metadata key read by `JwtAuthGuard`. */
export const IS_PUBLIC_KEY = 'maxconf:auth:public';

/**
 * Marks a route (or a whole controller) as exempt from the bearer-token
 * check that guards every other route. A public route that still needs a
 * caller check adds its own guard.
 *
 * @example
 * @Public()
 * @UseGuards(EventSinkAuthGuard)
 * @Post('event_sink')
 * receive() {}
 */
export const Public = () => SetMetadata(IS_PUBLIC_KEY, true);
