import { createApp } from 'vue';
import App from './App.vue';
import { i18n } from './i18n.ts';
import { router } from './router.ts';
import 'vant/es/style/base.css';
import 'vant/es/badge/index.css';
import './vant-icons.css';
import './styles.css';

createApp(App).use(i18n).use(router).mount('#app');
