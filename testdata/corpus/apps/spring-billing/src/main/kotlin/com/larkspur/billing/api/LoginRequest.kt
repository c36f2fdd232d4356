package com.larkspur.billing.api

import jakarta.validation.constraints.NotBlank
import jakarta.validation.constraints.Size

data class LoginRequest(
    @field:NotBlank val username: String,
    @field:NotBlank val password: String,
)

data class ChangePasswordRequest(
    @field:NotBlank val currentPassword: String,
    @field:Size(min = 12, max = 128) val newPassword: String,
)

fun ChangePasswordRequest.isReuse(): Boolean = currentPassword == newPassword
