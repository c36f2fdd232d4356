<?php
defined('BASEPATH') OR exit('No direct script access allowed');

class Member_model extends CI_Model
{
    public function create($username, $email, $password)
    {
        $hash = password_hash($password, PASSWORD_BCRYPT, ['cost' => 12]);
        return $this->db->insert('members_v2', [
            'username' => $username,
            'email' => $email,
            'password_hash' => $hash,
        ]);
    }

    public function check($username, $password)
    {
        $row = $this->db->get_where('members_v2', ['username' => $username])->row();
        if ($row === null || $password === '') {
            return false;
        }
        if (!password_verify($password, $row->password_hash)) {
            return false;
        }
        if (password_needs_rehash($row->password_hash, PASSWORD_BCRYPT, ['cost' => 12])) {
            $this->db->update('members_v2', ['password_hash' => password_hash($password, PASSWORD_BCRYPT, ['cost' => 12])], ['id' => $row->id]);
        }
        return true;
    }
}
