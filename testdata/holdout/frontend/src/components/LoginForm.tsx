import { useState } from "react";
import { useTranslation } from "react-i18next";
import { login } from "../api/auth";

export function LoginForm() {
  const { t } = useTranslation();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);

  async function onSubmit(e: React.FormEvent) {
    e.preventDefault();
    try {
      const { accessToken } = await login(email, password);
      sessionStorage.setItem("access_token", accessToken);
    } catch {
      setError(t("errors.invalid_credentials"));
    }
  }

  return (
    <form onSubmit={onSubmit}>
      <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} placeholder={t("login.username")} />
      <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} placeholder="••••••••" autoComplete="current-password" />
      {error && <p role="alert">{error}</p>}
      <button type="submit">{t("login.submit")}</button>
    </form>
  );
}
