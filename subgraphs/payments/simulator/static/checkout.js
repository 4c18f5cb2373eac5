/*
 * Razorpay simulator: a stand-in for https://checkout.razorpay.com/v1/checkout.js (development
 * and tests only). Same browser API as Razorpay's Checkout:
 *
 *   const rzp = new Razorpay({ key, order_id, amount, currency, name, description, prefill,
 *                              notes, theme, handler(response), modal: { ondismiss() } });
 *   rzp.on('payment.failed', (response) => response.error);   // code, description, source, ...
 *   rzp.open();  rzp.close();
 *
 * The modal shows the order and the buttons "Pay now" and "Fail payment". They pay or fail the
 * order in the simulator (which sends the signed webhooks as Razorpay does); "Pay now" closes
 * the modal and calls `handler` with razorpay_payment_id, razorpay_order_id and
 * razorpay_signature (HMAC-SHA256 of `order_id|payment_id` with the key secret, as Razorpay signs
 * it). A failure calls the `payment.failed` callbacks and leaves the modal open for another
 * try, as Razorpay does. Closing it ("Close", Escape) calls `modal.ondismiss`.
 */
(function () {
  'use strict';
  var script = document.currentScript;
  var BASE = script && script.src ? new URL('.', script.src).href.replace(/\/v1\/$/, '') : '';

  function formatAmount(minor, currency) {
    var digits = { JPY: 0, KRW: 0, KWD: 3, BHD: 3, OMR: 3 }[currency];
    if (digits === undefined) digits = 2;
    var s = String(minor).padStart(digits + 1, '0');
    return currency + ' ' + (digits ? s.slice(0, -digits) + '.' + s.slice(-digits) : s);
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text != null) node.textContent = text;
    return node;
  }

  function post(path, body) {
    return fetch(BASE + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then(function (r) { return r.json().then(function (json) { return { ok: r.ok, json: json }; }); });
  }

  function Razorpay(options) {
    if (!(this instanceof Razorpay)) return new Razorpay(options);
    if (!options || !options.key) throw new Error('Razorpay: the "key" option is required');
    if (!options.order_id) throw new Error('Razorpay (simulator): only Checkout with an "order_id" is simulated');
    this.options = options;
    this._listeners = {};
    this._root = null;
  }

  Razorpay.prototype.on = function (event, callback) {
    (this._listeners[event] = this._listeners[event] || []).push(callback);
    return this;
  };

  Razorpay.prototype._emit = function (event, payload) {
    (this._listeners[event] || []).forEach(function (cb) { cb(payload); });
  };

  Razorpay.prototype.close = function () {
    if (this._root) {
      document.removeEventListener('keydown', this._onKey);
      this._root.remove();
      this._root = null;
    }
  };

  Razorpay.prototype._dismiss = function () {
    this.close();
    var modal = this.options.modal || {};
    if (typeof modal.ondismiss === 'function') modal.ondismiss();
  };

  Razorpay.prototype.open = function () {
    if (this._root) return this;
    var self = this;
    var o = this.options;
    var root = el('div', { 'data-razorpay-simulator': '', style:
      'position:fixed;inset:0;background:rgba(0,0,0,.5);display:flex;align-items:center;' +
      'justify-content:center;z-index:2147483647;font-family:sans-serif' });
    var dialog = el('div', { role: 'dialog', 'aria-modal': 'true', 'aria-label': 'Razorpay Checkout',
      style: 'background:#fff;padding:24px;border-radius:8px;min-width:320px;border-top:6px solid ' +
        ((o.theme && o.theme.color) || '#3395ff') });
    var title = el('h2', { style: 'margin-top:0' }, o.name || 'Razorpay Checkout (simulator)');
    var desc = el('p', {}, o.description || '');
    var amount = el('p', { 'data-testid': 'rzp-amount' },
      o.amount != null && o.currency ? formatAmount(o.amount, o.currency) : '');
    var message = el('p', { role: 'alert', style: 'color:#b00020;min-height:1.2em' });
    var pay = el('button', { type: 'button' }, 'Pay now');
    var fail = el('button', { type: 'button', style: 'margin-left:8px' }, 'Fail payment');
    var close = el('button', { type: 'button', style: 'margin-left:8px' }, 'Close');
    [title, desc, amount, message, pay, fail, close].forEach(function (n) { dialog.appendChild(n); });
    root.appendChild(dialog);

    function busy(on) { pay.disabled = fail.disabled = on; }

    fetch(BASE + '/_sim/checkout/orders/' + encodeURIComponent(o.order_id) +
      '?key_id=' + encodeURIComponent(o.key))
      .then(function (r) { return r.json().then(function (json) { return { ok: r.ok, json: json }; }); })
      .then(function (res) {
        if (!res.ok) { message.textContent = res.json.error.description; busy(true); return; }
        amount.textContent = formatAmount(res.json.amount_due, res.json.currency);
      })
      .catch(function () { message.textContent = 'Could not reach Razorpay'; });

    function attempt(outcome) {
      busy(true);
      message.textContent = '';
      post('/_sim/checkout/orders/' + encodeURIComponent(o.order_id) + '/pay',
        { key_id: o.key, outcome: outcome })
        .then(function (res) {
          busy(false);
          if (!res.ok) { message.textContent = res.json.error.description; return; }
          if (res.json.error) {
            message.textContent = 'Payment failed: ' + res.json.error.description;
            self._emit('payment.failed', res.json);
            return;
          }
          self.close();
          if (typeof o.handler === 'function') o.handler(res.json);
        })
        .catch(function () { busy(false); message.textContent = 'Could not reach Razorpay'; });
    }

    pay.addEventListener('click', function () { attempt('success'); });
    fail.addEventListener('click', function () { attempt('failure'); });
    close.addEventListener('click', function () { self._dismiss(); });
    this._onKey = function (e) {
      if (e.key === 'Escape' && (o.modal || {}).escape !== false) self._dismiss();
    };
    document.addEventListener('keydown', this._onKey);
    this._root = root;
    document.body.appendChild(root);
    pay.focus();
    return this;
  };

  window.Razorpay = Razorpay;
})();
