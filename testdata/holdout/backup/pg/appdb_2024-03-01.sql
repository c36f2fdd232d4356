--
-- PostgreSQL database dump
--

-- Dumped from database version 15.5 (Debian 15.5-1.pgdg120+1)
-- Dumped by pg_dump version 15.5 (Debian 15.5-1.pgdg120+1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: auth_user; Type: TABLE; Schema: public; Owner: northwind
--

CREATE TABLE public.auth_user (
    id integer NOT NULL,
    password character varying(128) NOT NULL,
    last_login timestamp with time zone,
    is_superuser boolean NOT NULL,
    username character varying(150) NOT NULL,
    first_name character varying(150) NOT NULL,
    last_name character varying(150) NOT NULL,
    email character varying(254) NOT NULL,
    is_staff boolean NOT NULL,
    is_active boolean NOT NULL,
    date_joined timestamp with time zone NOT NULL
);


ALTER TABLE public.auth_user OWNER TO northwind;

--
-- Data for Name: auth_user; Type: TABLE DATA; Schema: public; Owner: northwind
--

COPY public.auth_user (id, password, last_login, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined) FROM stdin;
1	pbkdf2_sha256$600000$0qClSC28oDdM27bV8Ac1jX$icjaTciY1b8mQI3TyhsEFuUVxAaD6mbwMo0oyCf0rcU=	2024-02-28 16:01:12.520331+00	t	admin	Dana	Whitfield	d.whitfield@northwind.io	t	t	2022-11-03 09:00:00+00
2	pbkdf2_sha256$600000$kmESdgr6QBzrUEqxfnoZZL$kJpnRLy2K29RvuoXatN7YdGop8FaeUy7wsE510XRvwk=	2024-02-29 08:14:55.103912+00	f	rokafor	Rachel	Okafor	r.okafor@northwind.io	t	t	2023-01-17 10:22:31+00
3	argon2$argon2id$v=19$m=102400,t=2,p=8$3JoRTH5Cf7oMf5dACBNZYA$exyR4LkLtCWcqO34/d5954ylp4ymjq97GqIYmX1PhtI	2024-03-01 07:45:02.774120+00	f	tnguyen	Thanh	Nguyen	t.nguyen@northwind.io	f	t	2023-09-05 13:02:47+00
4	!B7n6j80SXVecre7khk1c5DzC90DCmgu3TyJYNnsG	\N	f	svc_import			svc-import@northwind.io	f	t	2023-10-11 12:00:00+00
\.


--
-- Name: auth_user auth_user_pkey; Type: CONSTRAINT; Schema: public; Owner: northwind
--

ALTER TABLE ONLY public.auth_user
    ADD CONSTRAINT auth_user_pkey PRIMARY KEY (id);


--
-- PostgreSQL database dump complete
--

