/*
 * dev.c - the device calls every program makes, whatever the device (dev.h).
 */
#include "tcpip/dev.h"

#include <time.h>

uint64_t dev_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int dev_recv(struct dev *dev, struct frame *frames, int max)
{
	return dev->ops->recv(dev, frames, max);
}

int dev_send(struct dev *dev, const struct frame *frames, int n)
{
	return dev->ops->send(dev, frames, n);
}

int dev_close(struct dev *dev)
{
	return dev ? dev->ops->close(dev) : 0;
}
