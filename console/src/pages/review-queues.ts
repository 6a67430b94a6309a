// The reviewer's overview: every campaign with photos waiting, the oldest against the promise.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../html';
import { get, routes } from '../api';
import { t } from '../i18n';
import { duration } from '../format';
import { go } from '../router';
import { Empty, ErrorBox, Loading, PageHeader, useLoad } from '../components/ui';
import { claim } from '../review/claims';

interface Queue {
  campaign_id: string;
  campaign_name: string;
  school_id: string;
  school_name: string;
  waiting: number;
  claimed: number;
  oldest_queued_at: string | null;
  oldest_age_seconds: number | null;
  promise_hours: number;
  promise_at_risk: boolean;
}

export function ReviewQueues() {
  const queues = useLoad(() => get<{ queues: Queue[] }>(routes.queues), []);
  const [starting, setStarting] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [empty, setEmpty] = useState<string | null>(null);

  useEffect(() => {
    const timer = setInterval(queues.reload, 30_000);
    return () => clearInterval(timer);
  }, []);

  async function start(q: Queue) {
    setStarting(q.campaign_id);
    setError(null);
    setEmpty(null);
    try {
      const task = await claim(q.campaign_id);
      if (task) go(`/review/${encodeURIComponent(task.campaign_id)}/${encodeURIComponent(task.task_id)}`);
      else {
        setEmpty(q.campaign_id);
        queues.reload();
      }
    } catch (e) {
      setError(e);
    } finally {
      setStarting(null);
    }
  }

  const list = queues.data?.queues ?? [];
  const total = list.reduce((n, q) => n + q.waiting, 0);
  return html`<section>
    <${PageHeader} title=${t('review.queues.title')}>
      <span class="muted">${t('review.queues.total', { n: total })}</span>
      <button class="btn" onClick=${queues.reload} disabled=${queues.loading}>${t('common.refresh')}</button>
    <//>
    <${ErrorBox} error=${queues.error || error} />
    ${queues.loading && !queues.data
      ? html`<${Loading} />`
      : list.length === 0
        ? html`<${Empty}>${t('review.queues.none')}<//>`
        : html`<table class="table" id="queues">
            <thead>
              <tr>
                <th>${t('review.queues.campaign')}</th>
                <th>${t('review.queues.school')}</th>
                <th class="num">${t('review.queues.waiting')}</th>
                <th class="num">${t('review.queues.claimed')}</th>
                <th>${t('review.queues.oldest')}</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              ${list.map(
                (q) => html`<tr class=${q.promise_at_risk ? 'at-risk' : ''} data-campaign=${q.campaign_id}>
                  <td>${q.campaign_name}</td>
                  <td>${q.school_name}</td>
                  <td class="num strong">${q.waiting}</td>
                  <td class="num">${q.claimed}</td>
                  <td>
                    ${duration(q.oldest_age_seconds)}
                    <span class="muted"> / ${t('review.queues.promise', { h: q.promise_hours })}</span>
                    ${q.promise_at_risk
                      ? html` <span class="badge badge-danger">${(q.oldest_age_seconds ?? 0) >= q.promise_hours * 3600 ? t('review.queues.overdue') : t('review.queues.at_risk')}</span>`
                      : null}
                  </td>
                  <td class="actions">
                    ${empty === q.campaign_id ? html`<span class="muted">${t('review.queues.empty_now')}</span> ` : null}
                    <button class="btn btn-primary start-review" onClick=${() => start(q)} disabled=${starting !== null}>
                      ${starting === q.campaign_id ? t('common.working') : t('review.queues.start')}
                    </button>
                  </td>
                </tr>`,
              )}
            </tbody>
          </table>`}
  </section>`;
}
