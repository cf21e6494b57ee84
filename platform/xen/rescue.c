/* rescue.c — an ioreq server that lost its serving process (platform.h:
 * dm_rescue). */
#include "platform/platform.h"
#include "platform/xen/ioreq.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <xendevicemodel.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xentoolcore.h>
#include <xentoollog.h>
#include <xen/memory.h>

struct dm_rescue {
	uint32_t domid;
	const struct dm_log *log;
	xentoollog_logger *xtl;
	xendevicemodel_handle *dmod;
	xenforeignmemory_handle *fmem;
	xenevtchn_handle *xce;
};

void dm_rescue_xen_close(struct dm_rescue *r)
{
	if (r->xce)
		xenevtchn_close(r->xce);
	if (r->fmem)
		xenforeignmemory_close(r->fmem);
	if (r->dmod)
		xendevicemodel_close(r->dmod);
	if (r->xtl)
		xtl_logger_destroy(r->xtl);
	free(r);
}

int dm_rescue_xen_open(const struct plat_config *cfg, const struct dm_log *log,
                       struct dm_rescue **out, char *err, size_t errlen)
{
	struct dm_rescue *r = calloc(1, sizeof(*r));

	if (!r) {
		snprintf(err, errlen, "rescue: out of memory");
		return -1;
	}
	r->domid = (uint32_t)cfg->domid;
	r->log = log;
	r->xtl = (xentoollog_logger *)xtl_createlogger_stdiostream(stderr, XTL_CRITICAL, 0);
	r->dmod = xendevicemodel_open(r->xtl, 0);
	r->fmem = r->dmod ? xenforeignmemory_open(r->xtl, 0) : NULL;
	r->xce = r->fmem ? xenevtchn_open(r->xtl, 0) : NULL;
	if (!r->xce) {
		snprintf(err, errlen, "rescue: cannot open the Xen device-model interfaces: %s",
		         strerror(errno));
		dm_rescue_xen_close(r);
		return -1;
	}
	if (cfg->domid_restrict && (xendevicemodel_restrict(r->dmod, r->domid) < 0 ||
	                            xentoolcore_restrict_all(r->domid) < 0)) {
		snprintf(err, errlen, "rescue: cannot restrict the Xen handles to domain %" PRIu32
		                      ": %s", r->domid, strerror(errno));
		dm_rescue_xen_close(r);
		return -1;
	}
	*out = r;
	return 0;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {0, (long)ms * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int dm_rescue_xen_server(struct dm_rescue *r, int server_id, unsigned *answered, char *err,
                         size_t errlen)
{
	xenforeignmemory_resource_handle *res;
	xenevtchn_port_or_error_t *local;
	unsigned nr = 0, pages, waited = 0, pending;
	void *shared = NULL;
	ioservid_t id = (ioservid_t)server_id;

	*answered = 0;
	if (server_id < 0)
		return 0;
	if (xendevicemodel_nr_vcpus(r->dmod, r->domid, &nr) < 0 || nr == 0) {
		snprintf(err, errlen, "rescue: cannot count the vCPUs of domain %" PRIu32 ": %s",
		         r->domid, strerror(errno));
		return -1;
	}
	pages = (nr + DM_IOREQ_PER_PAGE - 1) / DM_IOREQ_PER_PAGE;
	res = xenforeignmemory_map_resource(r->fmem, r->domid, XENMEM_resource_ioreq_server, id,
	                                    XENMEM_resource_ioreq_server_frame_ioreq(0), pages,
	                                    &shared, PROT_READ | PROT_WRITE, 0);
	if (!res) {
		snprintf(err, errlen, "rescue: cannot map ioreq server %d's pages: %s", server_id,
		         strerror(errno));
		return -1;
	}
	/* No new request reaches it from now on. */
	if (xendevicemodel_set_ioreq_server_state(r->dmod, r->domid, id, 0) < 0) {
		snprintf(err, errlen, "rescue: cannot disable ioreq server %d: %s", server_id,
		         strerror(errno));
		xenforeignmemory_unmap_resource(r->fmem, res);
		return -1;
	}
	local = calloc(nr, sizeof(*local));
	for (unsigned v = 0; local && v < nr; v++) {
		local[v] = -1;
		if (!dm_ioreq_abandon(shared, v))
			continue;
		(*answered)++;
		/* The dead process's binding is gone: the channel is unbound again. */
		local[v] = xenevtchn_bind_interdomain(r->xce, r->domid, dm_ioreq_vp_eport(shared, v));
		if (local[v] < 0)
			dm_warn(r->log, "rescue: cannot bind vCPU %u's event channel: %s", v,
			        strerror(errno));
		else
			xenevtchn_notify(r->xce, (evtchn_port_t)local[v]);
	}
	/* The vCPUs take their answers (state back to none) before the server's
	 * channels go away with it. */
	do {
		pending = 0;
		for (unsigned v = 0; v < nr; v++)
			if (dm_ioreq_state(shared, v) == 3 /* IORESP_READY */)
				pending++;
		if (pending)
			sleep_ms(10);
		waited += 10;
	} while (pending && waited < DM_RESCUE_WAIT_MS);
	if (pending)
		dm_warn(r->log, "rescue: %u vCPU%s did not take the answer within %u ms", pending,
		        pending == 1 ? "" : "s", DM_RESCUE_WAIT_MS);
	for (unsigned v = 0; local && v < nr; v++)
		if (local[v] >= 0)
			xenevtchn_unbind(r->xce, (evtchn_port_t)local[v]);
	free(local);
	xenforeignmemory_unmap_resource(r->fmem, res);
	if (xendevicemodel_destroy_ioreq_server(r->dmod, r->domid, id) < 0 && errno != ESRCH) {
		snprintf(err, errlen, "rescue: cannot destroy ioreq server %d: %s", server_id,
		         strerror(errno));
		return -1;
	}
	return 0;
}
