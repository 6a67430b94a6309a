// Sign-in: a plain link to the WeChat website QR flow; readable words for every way it fails.
import { html } from '../html';
import { routes } from '../api';
import { t, tOr } from '../i18n';

/** `?signin_error=<code>` from the callback, or the code of the 401 that brought us here. */
export function SignIn({ code }: { code: string | null }) {
  const fromCallback = new URLSearchParams(location.search).get('signin_error');
  const reason = fromCallback ?? code;
  const quiet = !reason || reason === 'not_signed_in';
  const kind = reason === 'signed_out' ? 'ok' : 'error';
  return html`<div class="signin">
    <div class="signin-card">
      <div class="signin-brand">${t('app.name')}</div>
      <h1>${t('signin.title')}</h1>
      <p class="muted">${t('signin.lead')}</p>
      ${quiet
        ? null
        : html`<div class="alert alert-${kind}" role="alert" id="signin-message" data-code=${reason}>
            ${tOr(`signin.error.${reason}`, t('signin.error.other'))}
          </div>`}
      <a class="btn btn-primary btn-wechat" id="signin-wechat" href=${routes.signIn}>${t('signin.wechat')}</a>
      <p class="muted small">${t('signin.help')}</p>
    </div>
  </div>`;
}
