// The login page works without script; this only adds the error message and the way back to the page the
// user came from (the part after `#`, which the browser never sends to the server).
const params = new URLSearchParams(location.search);
if (params.has('error')) document.getElementById('login-error').hidden = false;
if (location.hash.startsWith('#/')) document.getElementById('next').value = location.hash;
