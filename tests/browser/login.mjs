// Logs in through the hosted UI in a real headless Chromium and prints what
// the browser ends on. Usage: node login.mjs URL PASSWORD SCREENSHOT_PREFIX
import { chromium } from 'playwright-core';

const [url, password, shots] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(20000);
  await page.goto(url);
  await page.waitForSelector('#username');
  await page.screenshot({ path: `${shots}-login-page.png` });
  await page.fill('#username', 'alice');
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('#signin')]);
  await page.waitForLoadState('load');
  await page.screenshot({ path: `${shots}-result.png` });
  const error = await page.$('#error');
  console.log(JSON.stringify({
    url: page.url(),
    status: 'done',
    error: error ? await error.textContent() : null,
    body: await page.textContent('body'),
  }));
} finally {
  await browser.close();
}
