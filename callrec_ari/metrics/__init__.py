"""What operators watch: the service's Prometheus metrics, served at ``GET /metrics``.

``Metrics`` owns one ``CollectorRegistry`` per service (never the process-wide default, so
several services in one test process do not collide). The code updates it in few places,
each one line: a call's row becoming final (``call_finished``, from the controller and the
register import), each ARI request (``ari_request``) and the loop-lag duty (``loop_lag``).
Everything else (calls in flight, the writer's backlog, duties failing...) is read from the
running objects when Prometheus scrapes (``readings.Readings``), so the call path pays nothing
for it. No label ever holds a caller's number or a call's id.
"""

from callrec_ari.metrics.instruments import Metrics
from callrec_ari.metrics.loop_lag import LoopLag

__all__ = ["LoopLag", "Metrics"]
